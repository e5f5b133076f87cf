// Starts guest-exec's programs through the native addon's spawn (native/spawn.c): the child shares the
// agent's memory until it execs (clone CLONE_VM|CLONE_VFORK) instead of libuv's fork, which copies the page
// tables of a 50-60 MB process (1.6-3.5 ms per start, docs/benchmarks.md), and its exit is noticed through a
// pidfd the event loop polls. Same contract as ChildProcessRunner (process-runner.ts): resolution like
// g_spawn, exactly the given environment, no shell, children unref()-ed and outliving the agent.
import { closeSync } from 'node:fs';
import net from 'node:net';
import type { NativeSpawn } from '../../native/addon.js';
import type { ProcessEvents, ProcessExit, ProcessRunner, ProcessSpec } from '../interfaces.js';
import { ChildProcessRunner, type ProcessPipes, resolveProgram, wireProcess } from './process-runner.js';

/** Wraps the agent's end of a pipe as a non-blocking stream on the event loop (libuv sets O_NONBLOCK). */
function pipeStream(fd: number, writable: boolean): net.Socket {
  return new net.Socket({ fd, readable: !writable, writable });
}

/** close(2), for an fd no stream took; an error is of no use to anyone here. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/** Spawns through the addon; on a kernel without pidfd_open (before 5.3) every start goes to `fallback`. */
export class NativeProcessRunner implements ProcessRunner {
  private readonly pidfd: boolean;

  constructor(
    private readonly native: NativeSpawn,
    private readonly fallback: ProcessRunner = new ChildProcessRunner(),
  ) {
    // Asked once: the kernel does not change. Without a pidfd the exit could only be noticed through SIGCHLD,
    // which libuv owns; the fallback (libuv's spawn and its SIGCHLD handler) starts those programs instead.
    this.pidfd = native.pidfdSupported();
  }

  resolve(program: string, searchPath: string): Promise<string> {
    return resolveProgram(program, searchPath);
  }

  start(spec: ProcessSpec, events: ProcessEvents): Promise<number> {
    if (!this.pidfd) return this.fallback.start(spec, events);
    let onExit: ((exit: ProcessExit) => void) | undefined;
    let early: ProcessExit | undefined;
    let started: ReturnType<NativeSpawn['spawn']>;
    try {
      started = this.native.spawn(
        spec.file,
        [spec.argv0, ...spec.args],
        Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        (spec.stdin ? 1 : 0) | (spec.stdout ? 2 : 0) | (spec.stderr ? 4 : 0),
        (code, signal) => {
          const exit = { code, signal };
          if (onExit) onExit(exit);
          else early = exit;
        },
      );
    } catch (err) {
      return Promise.reject(err);
    }
    const fds = [started.stdin, started.stdout, started.stderr];
    const streams: (net.Socket | null)[] = [];
    try {
      for (const [i, fd] of fds.entries()) streams.push(fd >= 0 ? pipeStream(fd, i === 0) : null);
    } catch (err) {
      // Not expected (they are pipes): the program runs on, watched and reaped, and sees EOF/EPIPE. What was
      // wrapped is destroyed (closing its fd), what was not is closed, and the start is reported failed.
      for (const s of streams) s?.destroy();
      for (const fd of fds.slice(streams.length)) if (fd >= 0) closeQuietly(fd);
      return Promise.reject(err);
    }
    const pipes: ProcessPipes = { stdin: streams[0] ?? null, stdout: streams[1] ?? null, stderr: streams[2] ?? null };
    onExit = wireProcess(pipes, spec, events);
    // The exit is reported from a later turn of the event loop, never during spawn; kept for safety.
    if (early) onExit(early);
    return Promise.resolve(started.pid);
  }
}
