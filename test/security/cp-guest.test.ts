// A malicious guest against `guestlink cp`: a download that goes on past the size the guest reported,
// a reply carrying more than was asked for, a file with no size that never ends, a read-back that is
// longer than the upload. Each stops at its bound with an error, and a download leaves no file — not
// the target, not the temporary one — behind.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTempDir } from '../peer/harness.js';
import { fileHandlers, type Handler, type HostileGuest, startHostileGuest } from './hostile-guest.js';
import { CLI_PEAK_RSS_CEILING_KIB, runCliMeasured } from './measure-cli.js';

const MiB = 1 << 20;
const SLACK = 64 << 10; // host/files.ts SIZE_SLACK

describe('cp against a malicious guest', () => {
  const guests: HostileGuest[] = [];
  after(async () => {
    for (const g of guests) await g.stop();
  });
  const guest = async (handlers: Record<string, Handler>) => {
    const g = await startHostileGuest(handlers);
    guests.push(g);
    return g;
  };
  const asked = (g: HostileGuest) =>
    g.requests.filter((r) => r.execute === 'guest-file-read').reduce((n, r) => n + Number(r.arguments?.count ?? 0), 0);
  const download = async (g: HostileGuest, extra: string[] = []) => {
    const dir = makeTempDir('guestlink-cp-attack-');
    const r = await runCliMeasured(['cp', `${g.address}:/var/log/small.log`, path.join(dir, 'small.log'), ...extra]);
    return { ...r, left: readdirSync(dir) };
  };

  test('the guest reports 1000 bytes and keeps sending: stopped just past 1000 + 64 KiB, exit 8, no file left', async () => {
    const g = await guest(fileHandlers({ stream: 200 * MiB, size: 1000 }));
    const r = await download(g);
    assert.equal(r.status, 8, r.stderr);
    assert.match(r.stderr, /the guest reported 1000 bytes but sent \d+; stopped, nothing written/);
    assert.deepEqual(r.left, [], 'neither the target nor a temporary file is left');
    assert.ok(asked(g) <= 1000 + SLACK + 1, `asked for ${asked(g)} bytes`);
    assert.ok((r.peakKiB as number) < CLI_PEAK_RSS_CEILING_KIB);
  });

  test('a reply with more bytes than asked for is refused (exit 8), no file left', async () => {
    const g = await guest(fileHandlers({ stream: 8 * MiB, size: 1000, greedy: true }));
    const r = await download(g);
    assert.equal(r.status, 8, r.stderr);
    assert.deepEqual(r.left, []);
  });

  test('no size reported: bounded by --max-bytes (exit 8, no file left); a small unsized file still arrives', async () => {
    const g = await guest(fileHandlers({ stream: 200 * MiB, size: 'none' }));
    const r = await download(g, ['--max-bytes', '1MiB']);
    assert.equal(r.status, 8, r.stderr);
    assert.match(r.stderr, /sent more than 1048576 bytes without reporting a size; stopped, nothing written \(raise --max-bytes\)/);
    assert.deepEqual(r.left, []);
    assert.ok(asked(g) <= MiB + 1);
    const small = await guest(fileHandlers({ content: Buffer.from('hello\n'), size: 'none' }));
    const ok = await download(small);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(ok.left, ['small.log']);
  });

  test('upload: a read-back longer than what was sent is a checksum error (exit 5), read no further than that', async () => {
    let written = 0;
    const back = fileHandlers({ stream: 100 * MiB });
    const g = await guest({
      ...back,
      'guest-file-write': (a, r) => {
        const n = Buffer.from(String(a['buf-b64']), 'base64').length;
        written += n;
        r.ok({ count: n, eof: false });
      },
    });
    const src = path.join(makeTempDir(), 'up.bin');
    writeFileSync(src, Buffer.alloc(300_000, 7));
    const r = await runCliMeasured(['cp', src, `${g.address}:/tmp/up.bin`]);
    assert.equal(written, 300_000);
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /the read-back has more than the 300000 bytes sent/);
    assert.ok(asked(g) <= 300_001, `asked for ${asked(g)} bytes`);
    assert.ok((r.peakKiB as number) < CLI_PEAK_RSS_CEILING_KIB);
  });
});
