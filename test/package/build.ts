// Builds the packages under test once per run: the single executable (scripts/build-sea.mjs) into
// .tmp/package-sea and, on request, the OCI images (scripts/build-oci.mjs). The build scripts are
// incremental and rename their outputs atomically, so test files running in parallel may all ask.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root (this file is dist/test/package/build.js once compiled). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SEA_DIR = path.join(REPO_ROOT, '.tmp', 'package-sea');
export const SEA_EXE = path.join(SEA_DIR, 'guestlink');
/** The arm64 executable's directory (build-sea's rule: another architecture goes to DIR-ARCH). */
export const SEA_DIR_ARM64 = `${SEA_DIR}-arm64`;
export const PACKAGE_VERSION: string = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;

export interface SeaBuild {
  arch: 'x64' | 'arm64';
  exe: string;
  addon?: string;
  rebuilt: boolean;
  /** Wall time of the build script, ms (bundle, addon, blob, copy+strip, inject when rebuilt). */
  ms: number;
  times: Record<string, number>;
  /** Whether the blob carries V8's code cache (made by the target's own Node, under qemu-user for arm64). */
  codeCache: boolean;
  /** The Node/V8 flags the build put in the SEA config (execArgv); the code caches were trained under them. */
  execArgv: string[];
}

/** Runs scripts/SCRIPT with this Node from the checkout's root; resolves with its exit code, output and wall time. */
export function runScript(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts', script), ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.once('error', reject);
    p.once('exit', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

/** Runs scripts/build-sea.mjs into SEA_DIR, or SEA_DIR_ARM64 for arm64 (a no-op when nothing changed). */
export async function buildSea(arch: 'x64' | 'arm64' = 'x64'): Promise<SeaBuild> {
  const dir = arch === 'x64' ? SEA_DIR : SEA_DIR_ARM64;
  const r = await runScript('build-sea.mjs', ['--arch', arch, '--out', dir, '--quiet']);
  if (r.code !== 0) throw new Error(`build-sea failed (exit ${r.code}):\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  return {
    arch,
    exe: out.exe,
    addon: out.addon,
    rebuilt: out.rebuilt,
    ms: r.ms,
    times: out.times,
    codeCache: out.codeCache,
    execArgv: out.execArgv,
  };
}

export interface OciBuild {
  tag: string;
  /** "linux/amd64", "linux/arm64" */
  platforms: string[];
  /** The shared libraries shipped for each architecture (x64, arm64). */
  libraries: Record<string, string[]>;
  agent: { layout: string; digest: string; ms: number };
  extension: { layout: string; digest: string; ms: number };
  ms: number;
}

/** Runs scripts/build-oci.mjs into `out` (both images, both platforms), with the executables from SEA_DIR and SEA_DIR_ARM64. */
export async function buildOci(out: string): Promise<OciBuild> {
  const r = await runScript('build-oci.mjs', ['--out', out, '--sea-out', SEA_DIR, '--quiet']);
  if (r.code !== 0) throw new Error(`build-oci failed (exit ${r.code}):\n${r.stderr}`);
  return { ...JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}'), ms: r.ms };
}

/** The pinned Node binary of an architecture (scripts/sea-targets.mjs; fetched when missing). */
export function seaNodeBinary(arch: 'x64' | 'arm64'): string {
  const script = `import { seaNode } from ${JSON.stringify(path.join(REPO_ROOT, 'scripts/sea-targets.mjs'))}; console.log(seaNode(${JSON.stringify(arch)}).bin);`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
}

/** The files a process has mapped (/proc/PID/maps; under qemu-user, what the emulated program loaded too). */
export function mappedFiles(pid: number): string[] {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  return [...new Set(maps.split('\n').map((l) => l.split(/\s+/)[5] ?? ''))].filter((f) => f.startsWith('/'));
}

/** Files of this checkout a process has mapped, outside `dir` (an executable must need nothing else of it). */
export function checkoutFilesMapped(pid: number, dir: string): string[] {
  return mappedFiles(pid).filter((f) => f.startsWith(`${REPO_ROOT}/`) && !f.startsWith(`${dir}/`));
}

/** Asserts that the executable running as `pid` loaded the addon beside it in `dir` and nothing else of the checkout. */
export function assertUsesOnlyItsDirectory(pid: number | undefined, dir: string): void {
  assert.ok(pid, 'the process is not running');
  assert.ok(mappedFiles(pid).includes(path.join(dir, 'guestlink.node')), `${dir}/guestlink.node is not mapped`);
  assert.deepEqual(checkoutFilesMapped(pid, dir), []);
}

/** Why a tool-based test cannot run here, or undefined. */
export function missingTools(...tools: string[]): string | undefined {
  const missing = tools.filter((t) => !(process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => existsSync(path.join(d, t))));
  return missing.length > 0 ? `not installed: ${missing.join(', ')} (scripts/apt-packages.txt)` : undefined;
}

const FF = Buffer.from([0xff]);

/** One request case for an executable's agent: bytes sent, replies expected, a substring the reply must hold. */
export interface AgentCase {
  name: string;
  send: Buffer;
  replies: number;
  contains?: string;
  /** False where qemu-ga's bytes differ by nature (version, command list, member order): compared by shape there. */
  sameAsQemuGa?: false;
}

/** The core cases an executable's agent must answer like the checkout's agent (and, unless marked, like qemu-ga). */
export const CORE_CASES: AgentCase[] = [
  {
    // Two replies: qemu's parse error for the 0xFF, then the 0xFF-led sync reply. The id is INT64_MAX:
    // an id above it is refused as "Invalid parameter type" (qemu-ga too), which is not this case's point.
    name: 'a 0xFF reset, then guest-sync-delimited with a 64-bit id (0xFF-led reply, lossless integer)',
    send: Buffer.concat([FF, Buffer.from('{"execute":"guest-sync-delimited","arguments":{"id":9223372036854775807}}\n')]),
    replies: 2,
    contains: '\xff{"return": 9223372036854775807}\n',
  },
  { name: 'guest-ping', send: Buffer.from('{"execute":"guest-ping"}\n'), replies: 1 },
  { name: 'guest-ping with an id', send: Buffer.from('{"execute":"guest-ping","id":"abc"}\n'), replies: 1 },
  { name: 'guest-info', send: Buffer.from('{"execute":"guest-info"}\n'), replies: 1, sameAsQemuGa: false },
  { name: 'guest-get-osinfo', send: Buffer.from('{"execute":"guest-get-osinfo"}\n'), replies: 1, sameAsQemuGa: false },
  { name: 'an unknown command', send: Buffer.from('{"execute":"guest-no-such-thing"}\n'), replies: 1 },
  { name: 'an unexpected argument', send: Buffer.from('{"execute":"guest-ping","arguments":{"x":1}}\n'), replies: 1 },
  {
    name: 'two requests in one write',
    send: Buffer.from('{"execute":"guest-ping"}{"execute":"guest-sync","arguments":{"id":7}}\n'),
    replies: 2,
  },
];

/** An agent started by a test on a unix socket: its process, its stderr so far, and how to end it. */
export interface ListeningProcess {
  proc: ChildProcess;
  stderr(): string;
  exited(): boolean;
  /** SIGTERM by PID, then waits for the exit (nothing when it has exited already). */
  stop(): Promise<void>;
}

/**
 * Starts `file args` (stdout ignored, stderr kept) and waits until `socket` accepts connections; a
 * process that exits first, or a socket that stays shut for `ms`, rejects with its stderr.
 */
export async function startListening(
  file: string,
  args: string[],
  socket: string,
  ms: number,
  opts: SpawnOptions = {},
): Promise<ListeningProcess> {
  const proc = spawn(file, args, { cwd: '/', ...opts, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exited = false;
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const gone = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const started: ListeningProcess = {
    proc,
    stderr: () => stderr,
    exited: () => exited,
    stop: async () => {
      if (exited) return;
      proc.kill('SIGTERM');
      await gone;
    },
  };
  await waitForSocket(socket, ms, () => !exited).catch(async (err) => {
    await started.stop();
    throw new Error(`${err.message}\n${stderr}`);
  });
  return started;
}

/** Resolves once a unix socket accepts connections; rejects after `ms` or when `alive()` turns false. */
export async function waitForSocket(socket: string, ms: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!alive()) throw new Error(`the process exited before listening on ${socket}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(socket);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${socket} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
