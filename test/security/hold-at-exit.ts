// Preloaded (node --import) into a CLI child by runCliMeasured: once the CLI is done (its event loop
// empty, just before the process exits), it says so on fd 3 and blocks until the test has read its
// /proc/<pid>/status, so the peak RSS is read from the live process, after everything it did.
import { readSync, writeSync } from 'node:fs';

process.once('beforeExit', () => {
  writeSync(3, 'done\n');
  const b = Buffer.alloc(16);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      readSync(3, b, 0, b.length, null); // returns when the test writes or closes its end
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
});
