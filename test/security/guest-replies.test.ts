// A malicious guest answering ordinary requests with far more than they can legitimately carry: a
// 200 MiB guest-get-osinfo, program output past QGA's 16 MiB per stream. The client stops reading at
// the reply's bound (exit 8; exec: 255 as for any failure of guestlink itself) and its memory stays
// under the documented ceiling.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type HostileGuest, startHostileGuest } from './hostile-guest.js';
import { CLI_EXEC_PEAK_RSS_CEILING_KIB, CLI_PEAK_RSS_CEILING_KIB, runCliMeasured } from './measure-cli.js';

const MiB = 1 << 20;

describe('replies larger than their bound', () => {
  let g: HostileGuest;
  after(() => g?.stop());

  test('a 200 MiB guest-get-osinfo reply: stopped at 8 MiB (exit 8)', async () => {
    g = await startHostileGuest({
      'guest-get-osinfo': async (_a, r) => void (await r.streamBase64({ id: 'evil' }, 'name', 200 * MiB)),
      'guest-exec': (_a, r) => r.ok({ pid: 9 }),
      // 31 MiB of stdout in one reply (within the reply's bound for two streams): QGA agents keep at most 16 MiB per stream.
      'guest-exec-status': async (_a, r) => void (await r.streamBase64({ exited: true, exitcode: 0 }, 'out-data', 31 * MiB)),
    });
    const r = await runCliMeasured(['osinfo', g.address]);
    assert.equal(r.status, 8, r.stderr);
    assert.match(r.stderr, /reply to guest-get-osinfo is over 8388608 bytes; stopped reading it/);
    assert.ok((r.peakKiB as number) < CLI_PEAK_RSS_CEILING_KIB, `peak ${r.peakKiB} KiB`);
    console.log(`# 200 MiB osinfo reply: CLI peak RSS ${((r.peakKiB as number) / 1024).toFixed(1)} MiB`);
  });

  test('exec output past 16 MiB per stream is refused (exit 255), memory under the exec ceiling', async () => {
    const r = await runCliMeasured(['exec', g.address, '--', '/bin/cat', '/dev/zero']);
    assert.equal(r.status, 255, r.stderr);
    assert.match(r.stderr, /more than 16777216 bytes of stdout; stopped reading/);
    assert.ok((r.peakKiB as number) < CLI_EXEC_PEAK_RSS_CEILING_KIB, `peak ${r.peakKiB} KiB`);
    console.log(`# 31 MiB exec stdout: CLI peak RSS ${((r.peakKiB as number) / 1024).toFixed(1)} MiB`);
  });

  test('an exit status no process can have (256, 1e308, -1) is 255, never 0 and never a crash', async () => {
    for (const exitcode of [256, 1e308, -1, 2.5]) {
      const odd = await startHostileGuest({
        'guest-exec': (_a, r) => r.ok({ pid: 4 }),
        'guest-exec-status': (_a, r) => r.raw(`{"return": {"exited": true, "exitcode": ${exitcode}}}\n`),
      });
      const r = await runCliMeasured(['exec', odd.address, '--', '/bin/true']);
      await odd.stop();
      assert.equal(r.status, 255, `${exitcode}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /ERR_OUT_OF_RANGE|at /);
    }
  });
});
