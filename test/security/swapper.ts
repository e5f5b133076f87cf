// The attacker of the file-race tests: a local guest user swapping a directory inside an allow-listed
// tree with a symlink that points outside it, renameat2(RENAME_EXCHANGE) in a tight loop, as fast as
// the kernel allows. A tiny C program compiled by the test (gcc is needed for the native addon anyway);
// it counts its swaps and prints the count when stopped, so a test can show the attack really ran.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const SOURCE = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile sig_atomic_t stop = 0;
static void on_term(int sig) { (void)sig; stop = 1; }
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  signal(SIGTERM, on_term);
  unsigned long n = 0;
  while (!stop) {
    if (renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) != 0) { perror("renameat2"); return 1; }
    n++;
  }
  printf("%lu\n", n);
  return 0;
}
`;

/** Whether a C compiler is here; under CI a missing one is a failure, elsewhere the tests skip and say why. */
export const HAVE_CC = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;

/** Compiles the swapper into `dir`; returns the executable's path. */
export function buildSwapper(dir: string): string {
  const src = path.join(dir, 'swapper.c');
  const exe = path.join(dir, 'swapper');
  writeFileSync(src, SOURCE);
  const r = spawnSync('cc', ['-O2', '-o', exe, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot compile the swapper: ${r.stderr}`);
  return exe;
}

/** A running swapper: stop() ends it by its PID and returns how many swaps it made. */
export interface Swapper {
  stop(): Promise<number>;
}

/** Starts swapping `a` and `b` (both must exist) until stopped. */
export function startSwapper(exe: string, a: string, b: string): Swapper {
  const proc: ChildProcess = spawn(exe, [a, b], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    async stop() {
      if (proc.exitCode === null && proc.pid !== undefined) process.kill(proc.pid, 'SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`the swapper failed (exit ${code}): ${err}`);
      return Number(out.trim());
    },
  };
}
