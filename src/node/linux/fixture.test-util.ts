// Builds throw-away /proc, /sys and /etc trees for the Linux back end's unit tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A temp root with helpers to put files in it; `cleanup()` removes it. */
export function fixtureRoot(prefix: string) {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    root,
    file(rel: string, content: string | Uint8Array) {
      const p = path.join(root, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, content);
      return p;
    },
    dir(rel: string) {
      const p = path.join(root, rel);
      mkdirSync(p, { recursive: true });
      return p;
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
