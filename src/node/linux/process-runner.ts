// Starts guest-exec's programs: the one place the agent spawns them. No shell: the program is
// resolved like glib's g_spawn with G_SPAWN_SEARCH_PATH(_FROM_ENVP) and started directly with exactly
// the environment it is given (nothing of the agent's own is inherited). Used by every back end:
// on Talos too the agent's programs run beside the agent, in its own container.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants as osc } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { ProcessEvents, ProcessExit, ProcessRunner, ProcessSpec } from '../interfaces.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/**
 * Resolves `program` as g_spawn does: a name with a '/' is used as is (made absolute against `cwd`); a
 * bare name is looked up in `searchPath`, the first executable regular file wins. Throws an errno error
 * (ENOENT, or EACCES when only unusable candidates were found).
 */
export async function resolveProgram(program: string, searchPath: string, cwd = '/'): Promise<string> {
  if (program.includes('/')) return path.resolve(cwd, program);
  if (program === '') throw errno('ENOENT');
  let denied = false;
  for (const dir of searchPath.split(':')) {
    const candidate = path.resolve(cwd, dir === '' ? '.' : dir, program);
    try {
      const st = await stat(candidate);
      if (!st.isFile()) {
        denied ||= st.isDirectory() === false;
        continue;
      }
      await access(candidate, fsc.X_OK);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES') denied = true;
    }
  }
  throw errno(denied ? 'EACCES' : 'ENOENT');
}

/** Spawns with node:child_process; children are unref()-ed and outlive the agent, as qemu-ga's do. */
export class ChildProcessRunner implements ProcessRunner {
  resolve(program: string, searchPath: string): Promise<string> {
    return resolveProgram(program, searchPath);
  }

  start(spec: ProcessSpec, events: ProcessEvents): Promise<number> {
    const stdio: StdioOptions = [spec.stdin ? 'pipe' : 'ignore', spec.stdout ? 'pipe' : 'ignore', spec.stderr ? 'pipe' : 'ignore'];
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(spec.file, [...spec.args], { argv0: spec.argv0, stdio, shell: false, env: { ...spec.env } });
      } catch (e) {
        reject(e);
        return;
      }
      if (child.pid === undefined) {
        child.once('error', reject);
        return;
      }
      watch(child, spec, events);
      resolve(child.pid);
    });
  }
}

/** A started program's pipes, as the runner that started it wraps them (absent: /dev/null). */
export interface ProcessPipes {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
}

/**
 * Wires a started program's pipes to `events` and returns the function its exit is to be given (once);
 * `exited` fires once the exit and every output pipe's close are in. Shared by both runners, so the
 * ordering contract is one piece of code.
 */
export function wireProcess(pipes: ProcessPipes, spec: ProcessSpec, events: ProcessEvents): (exit: ProcessExit) => void {
  let pending = 1; // the exit itself, plus one per output pipe
  let exit: ProcessExit = { code: null, signal: null };
  const settle = () => {
    if (--pending === 0) events.exited(exit);
  };
  const collect = (stream: Readable | null, name: 'stdout' | 'stderr') => {
    if (!stream) return;
    pending++;
    stream.on('data', (d: Buffer) => events.output(name, d));
    stream.once('close', settle);
    stream.on('error', () => {});
    (stream as Readable & { unref?: () => void }).unref?.();
  };
  collect(pipes.stdout, 'stdout');
  collect(pipes.stderr, 'stderr');
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    events.inputReleased();
  };
  if (spec.stdin && pipes.stdin) {
    // EPIPE when the program does not read it all: the bytes are dropped with the pipe.
    pipes.stdin.on('error', release);
    pipes.stdin.once('close', release);
    pipes.stdin.end(spec.stdin, release);
    (pipes.stdin as unknown as { unref?: () => void }).unref?.();
  }
  let exited = false;
  return (e) => {
    if (exited) return;
    exited = true;
    exit = e;
    // Input not taken by the time the program ends is dropped with the pipe, as node:child_process drops it
    // (it destroys a child's stdin at its exit), and released now: inputReleased always comes before exited.
    if (spec.stdin && pipes.stdin && !released) {
      pipes.stdin.destroy();
      release();
    }
    settle();
  };
}

/** Wires a started child's pipes and exit to `events` (wireProcess). */
function watch(child: ChildProcess, spec: ProcessSpec, events: ProcessEvents): void {
  child.on('error', () => {});
  const onExit = wireProcess(child, spec, events);
  child.once('exit', (code, signal) => {
    onExit({ code, signal: signal === null ? null : ((osc.signals as Record<string, number>)[signal] ?? 0) });
  });
  // The agent may exit while children run: they are left alone, as qemu-ga leaves them.
  child.unref();
}
