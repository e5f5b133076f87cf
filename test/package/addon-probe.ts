// Loads a guestlink.node file and calls its functions, printing one JSON line of what happened: run by
// the arm64 Node under qemu-aarch64-static (test/package/sea-arm64.test.ts), where the test process
// itself cannot load an arm64 addon. Kept to plain Node APIs so it runs on the packaged Node 24 alone.
//
//   node addon-probe.js ADDON FIFO DIR
//
// FIFO: a named pipe the readiness functions watch (opened read-write, so it never reports EOF);
// DIR: a directory whose fd the fs ioctls are called on.
import { openSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Addon {
  fsFreeze(fd: number): void;
  fsThaw(fd: number): void;
  fsTrim(fd: number, minlen: number): { trimmed: bigint; minimum: bigint };
  clockGetTime(): bigint;
  strerror(errno: number): string;
  fdWatch(fd: number, onReady: () => void): unknown;
  fdUnwatch(token: unknown): void;
  fdRead(fd: number, buf: Buffer): number;
  fdWrite(fd: number, buf: Buffer, offset: number, length: number): number;
}

/** The outcome of one call: ok with a value, or the error's code and message as the addon threw them. */
type Outcome = { ok: true; value?: string } | { ok: false; code?: string; message: string };

function attempt(fn: () => unknown): Outcome {
  try {
    const v = fn();
    return v === undefined ? { ok: true } : { ok: true, value: String(v) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, ...(e.code ? { code: e.code } : {}), message: e.message };
  }
}

async function main(): Promise<void> {
  const [addonPath, fifo, dir] = process.argv.slice(2);
  if (!addonPath || !fifo || !dir) throw new Error('usage: addon-probe.js ADDON FIFO DIR');
  const addon = createRequire(import.meta.url)(addonPath) as Addon;
  const dirFd = openSync(dir, 'r');
  const result: Record<string, unknown> = {
    arch: process.arch,
    exports: Object.keys(addon).sort(),
    fsFreeze: attempt(() => addon.fsFreeze(dirFd)),
    fsThaw: attempt(() => addon.fsThaw(dirFd)),
    fsTrim: attempt(() => addon.fsTrim(dirFd, 0)),
    strerror2: addon.strerror(2),
    clockSkewMs: Math.abs(Number(addon.clockGetTime() / 1_000_000n) - Date.now()),
  };
  // Readiness: an edge on the FIFO after a write wakes the watcher on the event loop; it reads until EAGAIN.
  const fd = openSync(fifo, 'r+');
  const got = await new Promise<{ bytes: string; afterDrain: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no readiness callback within 20 s')), 20_000);
    let token: unknown;
    token = addon.fdWatch(fd, () => {
      const buf = Buffer.alloc(64);
      const n = addon.fdRead(fd, buf);
      if (n <= 0) return;
      const afterDrain = addon.fdRead(fd, Buffer.alloc(64));
      clearTimeout(timer);
      addon.fdUnwatch(token);
      resolve({ bytes: buf.subarray(0, n).toString('latin1'), afterDrain });
    });
    const msg = Buffer.from('xxhello-arm64');
    const wrote = addon.fdWrite(fd, msg, 2, msg.length - 2);
    if (wrote !== msg.length - 2) reject(new Error(`fdWrite returned ${wrote}`));
  });
  result.readiness = got;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
