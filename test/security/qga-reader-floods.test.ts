// Attacks on the JSON reader of a real agent process (unix socket), each with the agent's peak memory from
// /proc asserted under the documented ceiling (docs/security.md, "The QGA channel"), and a guest-ping on a
// fresh connection answered afterwards. On main before issue 13 the token flood took the agent to ~323 MB
// and the key flood to ~460 MB (+276 and +413 MiB above idle): both fail here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Attacker,
  CEILING_MIB,
  DAEMONSET_ARGS,
  DAEMONSET_CEILING_MIB,
  genericErrorLine,
  growthMiB,
  pingFresh,
  withAgent,
} from './qga-attack.js';

const PING_OK = '{"return": {}}\n';

/** One attack on its own agent: send, check the first replies, then memory and a fresh ping. */
async function attack(
  t: { diagnostic(msg: string): void },
  opts: { args?: string[]; ceilingMiB?: number; send: (a: Attacker) => Promise<void>; expect: (first: string[]) => void; replies?: number },
) {
  await withAgent(opts.args ?? [], async (agent, idleKiB) => {
    const a = await Attacker.open(agent.socket);
    // Replies are read while sending: what an attacker does not read is another test (qga-connections).
    const sending = opts.send(a);
    const first = await a.replies(opts.replies ?? 1);
    await sending;
    // Memory first: on the code before issue 13 the floods fail here, before their replies are compared.
    const g = growthMiB(agent, idleKiB);
    t.diagnostic(g.note);
    const ceiling = opts.ceilingMiB ?? CEILING_MIB;
    assert.ok(g.mib <= ceiling, `the agent grew by ${g.note}, over the ceiling of ${ceiling} MiB`);
    opts.expect(first);
    a.close();
    assert.equal(await pingFresh(agent.socket), PING_OK);
    assert.ok(agent.alive(), 'the agent is still running');
  });
}

/** A string body of `bytes` bytes: ASCII with one non-Latin-1 character every 4 KiB (so 2 bytes a character in memory). */
function wideText(bytes: number): Buffer {
  const body = Buffer.alloc(bytes, 0x61);
  for (let k = 0; k + 2 < body.length; k += 4096) body.write('\u0100', k, 'utf8');
  return body;
}

describe('attacks on the JSON reader', { timeout: 300_000 }, () => {
  test('token flood: 2 MiB of [0,0,... (1M tokens)', async (t) => {
    await attack(t, {
      send: (a) => a.send(`[${'0,'.repeat(1 << 20)}`),
      expect: ([first]) => assert.equal(first, genericErrorLine('JSON token count limit exceeded')),
    });
  });

  test('key flood: a 5.9 MB object of 500,000 keys', async (t) => {
    const keys: string[] = [];
    for (let i = 0; i < 500_000; i++) keys.push(`"k${i}":0`);
    await attack(t, {
      send: (a) => a.send(`{${keys.join(',')}}`),
      expect: ([first]) => assert.equal(first, genericErrorLine('JSON token count limit exceeded')),
    });
  });

  test('deep nesting: 1 MiB of [ and 1025 levels of {"a":', async (t) => {
    await attack(t, {
      send: (a) => a.send('['.repeat(1 << 20), '\n', '{"a":'.repeat(1025)),
      replies: 2,
      expect: (first) =>
        assert.deepEqual(
          first,
          [1, 2].map(() => genericErrorLine('JSON nesting depth limit exceeded')),
        ),
    });
  });

  test('a max-size string: 64 MiB less 100 bytes, one non-Latin-1 character every 4 KiB, as an argument', async (t) => {
    await attack(t, {
      send: (a) => a.send('{"execute":"guest-ping","arguments":{"x":"', wideText((64 << 20) - 100), '"}}\n'),
      expect: ([first]) => assert.equal(first, genericErrorLine("Parameter 'x' is unexpected")),
    });
  });

  test('a max-size id of DEL bytes (qemu-ga would echo 384 MiB): refused, not echoed', async (t) => {
    await attack(t, {
      send: (a) => a.send('{"execute":"guest-ping","id":"', Buffer.alloc((64 << 20) - 100, 0x7f), '"}\n'),
      expect: ([first]) =>
        assert.equal(
          first,
          genericErrorLine("the request's id is longer than 1048576 bytes as JSON (guestlink's limit; qemu-ga has none): use a shorter id"),
        ),
    });
  });

  test('the worst shape measured: a 60 MiB string of 2 bytes a character beside 170,000 objects', async (t) => {
    await attack(t, {
      send: (a) => a.send(`{"execute":"guest-ping","id":[${'{},'.repeat(170_000)}{}],"arguments":{"x":"`, wideText(60 << 20), '"}}\n'),
      expect: ([first]) => assert.match(first as string, /^\{"id": \[\{\}, .*"Parameter 'x' is unexpected"\}\}\n$/),
    });
  });

  test("the same at the DaemonSet's --max-request-bytes (16 MiB): a 15 MiB string beside 42,000 objects", async (t) => {
    await attack(t, {
      args: DAEMONSET_ARGS,
      ceilingMiB: DAEMONSET_CEILING_MIB,
      send: (a) => a.send(`{"execute":"guest-ping","id":[${'{},'.repeat(42_000)}{}],"arguments":{"x":"`, wideText(15 << 20), '"}}\n'),
      expect: ([first]) => assert.match(first as string, /^\{"id": \[\{\}, .*"Parameter 'x' is unexpected"\}\}\n$/),
    });
  });
});
