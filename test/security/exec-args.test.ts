// Attack surface: guest-exec's arguments. A program pinned to its arguments in --allow-exec runs only
// with exactly those (or those first, with "..."), so an allowed `cat` of one file cannot read another;
// an unpinned program takes any arguments, as documented. The audit log records each request with the
// environment's values, secret-looking arguments and input-data hidden.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JsonObject } from '../../src/protocol/qga/json-value.js';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { plain, qga, show } from '../talos/helpers.js';

type Reply = { return?: Record<string, unknown>; error?: { class: string; desc: string } };
const call = async (peer: Peer, execute: string, args: JsonObject) => plain(await qga(peer.socket, execute, args)) as Reply;

async function output(peer: Peer, args: JsonObject): Promise<string> {
  const started = await call(peer, 'guest-exec', { ...args, 'capture-output': true });
  assert.equal(typeof started.return?.pid, 'number', show(started));
  for (;;) {
    const st = await call(peer, 'guest-exec-status', { pid: started.return?.pid as number });
    if (st.return?.exited === true) return Buffer.from(String(st.return['out-data'] ?? ''), 'base64').toString();
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('guest-exec arguments', () => {
  const dir = makeTempDir('guestlink-sec-args-');
  const pub = path.join(dir, 'public file.txt');
  const secret = path.join(dir, 'secret.txt');
  const log = path.join(dir, 'agent.log');
  let agent: Peer;

  before(async () => {
    writeFileSync(pub, 'public\n');
    writeFileSync(secret, 'secret\n');
    mkdirSync(path.join(dir, 'state'));
    // A key file, as a node would configure it: the space in the pinned path written %20.
    const conf = path.join(dir, 'agent.conf');
    writeFileSync(
      conf,
      `[guestlink]\nallow-exec=/bin/cat ${pub.replace(/ /g, '%20')};/bin/echo;/bin/sh -c ...\nallow-exec-env=KUBECONFIG\n`,
    );
    agent = await startGuestlink(path.join(dir, 'state'), ['-c', conf, '-l', log]);
  });
  after(async () => {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a pinned program runs with its pinned arguments only', async () => {
    assert.equal(await output(agent, { path: '/bin/cat', arg: [pub] }), 'public\n');
    const refusal = {
      class: 'GenericError',
      desc: "guest-exec: '/bin/cat' is allowed only with the arguments pinned in --allow-exec",
    };
    for (const arg of [[secret], [pub, secret], ['--', pub], [], [`${dir}/../${path.basename(dir)}/public file.txt`]])
      assert.deepEqual((await call(agent, 'guest-exec', { path: '/bin/cat', arg })).error, refusal, JSON.stringify(arg));
  });

  test('"..." allows more arguments after the pinned ones; an unpinned program takes any (documented)', async () => {
    assert.equal(await output(agent, { path: '/bin/sh', arg: ['-c', 'echo "$1"', 'sh', 'x'] }), 'x\n');
    assert.match(
      String((await call(agent, 'guest-exec', { path: '/bin/sh', arg: ['-x'] })).error?.desc),
      /allowed only with the arguments pinned/,
    );
    assert.equal(await output(agent, { path: '/bin/echo', arg: ['-n', 'anything'] }), 'anything');
  });

  test('the audit log hides env values, secret-looking arguments and input-data, and keeps the rest', async () => {
    await output(agent, {
      path: '/bin/echo',
      arg: ['--password', 'hunter2', '--user', 'admin', 'API_TOKEN=tok-123', 'https://me:pw-456@example.test/'],
      env: ['KUBECONFIG=/etc/secret-kubeconfig-path'],
      'input-data': Buffer.from('stdin-secret').toString('base64'),
    });
    const text = readFileSync(log, 'utf8');
    const audit = text
      .split('\n')
      .filter((l) => l.includes('"audit":true') && l.includes('"command":"guest-exec"'))
      .map((l) => JSON.parse(l))
      .find((r) => r.args?.arg?.[0] === '--password');
    assert.ok(audit, 'the request is audited');
    assert.deepEqual(audit.args, {
      path: '/bin/echo',
      arg: ['--password', '[redacted]', '--user', 'admin', 'API_TOKEN=[redacted]', 'https://me:[redacted]@example.test/'],
      env: ['KUBECONFIG=[redacted]'],
      'input-data': '[16 base64 chars]',
      'capture-output': true,
    });
    for (const s of ['hunter2', 'tok-123', 'pw-456', 'secret-kubeconfig-path', Buffer.from('stdin-secret').toString('base64')])
      assert.ok(!text.includes(s), `${s} is not in the log`);
  });
});
