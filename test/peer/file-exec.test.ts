// guest-file-* and guest-exec side by side: the same sequences against qemu-ga 7.2 and guestlink
// (allow-listed to a temp dir and a few programs), replies compared byte for byte where they can be
// equal (handles and pids differ: normalised), plus guestlink's own refusals.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { replyLine } from '../qga-client.js';
import { HAVE_QEMU_GA, makeTempDir, type Peer, type Peers, startGuestlink, startPeers } from './harness.js';

const work = makeTempDir('guestlink-fileexec-');
const data = path.join(work, 'data');
mkdirSync(data);
const AGENT_ARGS = [
  '--allow-file-read',
  `${data}/`,
  '--allow-file-write',
  `${data}/`,
  '--allow-exec',
  '/bin/sh,/bin/echo,/bin/cat,/bin/sleep',
  // The request's variables pass only when listed (docs/security.md); qemu-ga takes any.
  '--allow-exec-env',
  'FOO',
];

let peers: Peers;
before(async () => {
  peers = await startPeers({ agentArgs: AGENT_ARGS });
});
after(async () => {
  await peers?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** One request on a fresh connection; the reply line as text. Scans only new bytes for the newline (replies reach 22 MB). */
function call(peer: Peer, req: unknown): Promise<string> {
  return replyLine(peer.socket, req, peer.name);
}
/** Long base64 strings shown as length + hash, so a mismatch prints readably. */
function short(replies: string[]): string[] {
  return replies.map((x) =>
    x
      .split('"')
      .map((part) => (part.length >= 200 ? `<${part.length} chars ${createHash('sha256').update(part).digest('hex').slice(0, 12)}>` : part))
      .join('"'),
  );
}
function returned(reply: string): any {
  return JSON.parse(reply).return;
}

/** Runs a file sequence on one peer: `HANDLE` in requests becomes the handle the first open returned. */
async function fileSequence(peer: Peer, file: string, reqs: Record<string, unknown>[]): Promise<string[]> {
  rmSync(file, { force: true });
  const out: string[] = [];
  let handle = -1;
  for (const r of reqs) {
    const req = JSON.parse(JSON.stringify(r).replaceAll('"HANDLE"', String(handle)).replaceAll('FILE', file));
    let reply = await call(peer, req);
    if (req.execute === 'guest-file-open' && handle < 0 && /^\{"return": \d+\}\n$/.test(reply)) {
      handle = returned(reply);
      reply = '{"return": HANDLE}\n';
    }
    out.push(reply.replaceAll(`'${handle}'`, "'HANDLE'"));
  }
  return out;
}

const w = (b64: string, extra: Record<string, unknown> = {}) => ({
  execute: 'guest-file-write',
  arguments: { handle: 'HANDLE', 'buf-b64': b64, ...extra },
});
const r = (count?: number) => ({ execute: 'guest-file-read', arguments: { handle: 'HANDLE', ...(count === undefined ? {} : { count }) } });
const seek = (offset: number, whence: unknown) => ({ execute: 'guest-file-seek', arguments: { handle: 'HANDLE', offset, whence } });
const open = (mode?: string, p = 'FILE') => ({ execute: 'guest-file-open', arguments: { path: p, ...(mode ? { mode } : {}) } });
const close = { execute: 'guest-file-close', arguments: { handle: 'HANDLE' } };
const flush = { execute: 'guest-file-flush', arguments: { handle: 'HANDLE' } };

describe('file ops, same replies as qemu-ga', { skip: !HAVE_QEMU_GA && 'qemu-ga not installed' }, () => {
  const sequences: Record<string, Record<string, unknown>[]> = {
    'w+: write, read at end, seek, read, flush, close, closed handle': [
      open('w+'),
      w('d3JpdHRlbiBieSBxZ2EK'),
      r(),
      seek(0, 'set'),
      r(),
      r(),
      r(0),
      flush,
      close,
      r(),
      close,
    ],
    'base64 strictness and write counts': [
      open('wb'),
      w('QQ'),
      w('QQ=='),
      w('Q=Q='),
      w('=QUJ'),
      w('QUJD\n'),
      w('QUJD RA=='),
      w('QUJD\r'),
      w('!!!notbase64'),
      w(''),
      w('QUJD', { count: 4 }),
      w('QUJD', { count: -1 }),
      w('QUJD', { count: 2 }),
      r(),
      close,
    ],
    'seek: whence forms, negative, past the end, invalid code': [
      open('w+'),
      w('QUJDREVGR0g='),
      seek(2, 0),
      r(3),
      seek(-2, 'cur'),
      r(100),
      seek(-1, 'end'),
      r(1),
      seek(-100, 'cur'),
      seek(3, 'end'),
      r(0),
      w('WFla'),
      seek(0, 1),
      seek(0, 7),
      seek(0, 'set'),
      r(4096),
      close,
    ],
    'append modes': [
      open('a'),
      w('QUJD'),
      seek(0, 'cur'),
      close,
      open('a+'),
      w('REVG'),
      seek(1, 'set'),
      r(2),
      w('R0g='),
      seek(0, 'cur'),
      seek(0, 'set'),
      r(),
      close,
    ],
    'read-only handle refuses writes; r+ rewrites in place': [
      open('w'),
      w('MTIzNDU2'),
      r(),
      close,
      open('r'),
      w('QUJD'),
      r(2),
      close,
      open('r+'),
      w('QUI='),
      r(),
      seek(0, 'set'),
      r(),
      close,
    ],
    'open errors': [open('zz'), open('r', `${data}/missing/x`), open('r', `${data}/nothing-here`), open('w', `${data}/missing/x`)],
    'count limits': [open('w+'), r(-1), r(104857600), r(50331649), r(50331648), close],
  };
  for (const [name, reqs] of Object.entries(sequences)) {
    test(name, async () => {
      const file = path.join(data, 'seq.bin');
      const q = await fileSequence(peers.qemu as Peer, file, reqs);
      const g = await fileSequence(peers.agent as Peer, file, reqs);
      assert.deepEqual(short(g), short(q));
    });
  }

  test('64 MiB in 4 MiB chunks: identical bytes from both', async (t) => {
    const big = path.join(data, 'big.bin');
    const bytes = randomBytes(64 << 20);
    writeFileSync(big, bytes);
    const want = createHash('sha256').update(bytes).digest('hex');
    for (const peer of [peers.qemu as Peer, peers.agent as Peer]) {
      const t0 = process.hrtime.bigint();
      const handle = returned(await call(peer, open('r', big)));
      const hash = createHash('sha256');
      let total = 0;
      for (;;) {
        const rep = returned(await call(peer, { execute: 'guest-file-read', arguments: { handle, count: 4 << 20 } }));
        hash.update(Buffer.from(rep['buf-b64'], 'base64'));
        total += rep.count;
        if (rep.eof) break;
      }
      await call(peer, { execute: 'guest-file-close', arguments: { handle } });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.equal(total, bytes.length);
      assert.equal(hash.digest('hex'), want, peer.name);
      t.diagnostic(`${peer.name}: ${((64 * 1.048576) / (ms / 1000)).toFixed(0)} MB/s, rss ${peer.rssKiB()} KiB`);
    }
    rmSync(big);
  });
});

/** Starts a program on a peer and polls its status until exited; the replies minus the pid. */
async function execAndWait(peer: Peer, args: Record<string, unknown>): Promise<string[]> {
  const start = await call(peer, { execute: 'guest-exec', arguments: args });
  if (!start.includes('"pid"')) return [start];
  const pid = returned(start).pid;
  const out = ['{"return": {"pid": PID}}\n'];
  for (let i = 0; i < 500; i++) {
    const st = await call(peer, { execute: 'guest-exec-status', arguments: { pid } });
    if (!st.includes('"exited": false')) {
      out.push(st);
      out.push(await call(peer, { execute: 'guest-exec-status', arguments: { pid } }));
      return out;
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`${peer.name}: pid ${pid} did not exit`);
}

describe('exec, same replies as qemu-ga', { skip: !HAVE_QEMU_GA && 'qemu-ga not installed' }, () => {
  const cases: Record<string, Record<string, unknown>> = {
    'echo captured': { path: '/bin/echo', arg: ['hello', 'qga'], 'capture-output': true },
    'stdin, stderr, exit code': {
      path: '/bin/sh',
      arg: ['-c', 'cat; echo err >&2; exit 3'],
      'input-data': 'ZnJvbS1zdGRpbgo=',
      'capture-output': true,
    },
    'not captured': { path: '/bin/sh', arg: ['-c', 'echo lost; exit 5'] },
    'killed by a signal': { path: '/bin/sh', arg: ['-c', 'kill -9 $$'] },
    'signal with output': { path: '/bin/sh', arg: ['-c', 'echo x; echo y >&2; kill -TERM $$'], 'capture-output': true },
    'env replaces the environment': {
      path: '/bin/sh',
      arg: ['-c', 'echo "$FOO"; env | grep -c HOME'],
      env: ['FOO=bar'],
      'capture-output': true,
    },
    'no stdin without input-data': { path: '/bin/cat', 'capture-output': true },
    // The agent (Node) ignores SIGPIPE; its programs must not inherit that: yes is ended by the signal (141).
    'SIGPIPE ends a writer, signals unblocked': {
      path: '/bin/sh',
      arg: ['-c', 'grep -E "^Sig(Ign|Blk)" /proc/self/status; (yes; echo "yes: $?" >&2) | head -1'],
      'capture-output': true,
    },
    'output over 16 MiB is truncated': { path: '/bin/sh', arg: ['-c', 'head -c 17000000 /dev/zero; echo e >&2'], 'capture-output': true },
    'bad input-data': { path: '/bin/cat', 'input-data': '!!' },
  };
  for (const [name, args] of Object.entries(cases)) {
    test(name, async () => {
      const [q, g] = await Promise.all([execAndWait(peers.qemu as Peer, args), execAndWait(peers.agent as Peer, args)]);
      assert.deepEqual(short(g), short(q));
    });
  }

  test('a documented difference: without env, qemu-ga passes its own environment, guestlink only PATH and LANG=C', async () => {
    // sh adds PWD itself; the rest is what each agent gave the program.
    const args = { path: '/bin/sh', arg: ['-c', 'env | grep -v ^PWD= | sort'], 'capture-output': true };
    const [q, g] = await Promise.all([execAndWait(peers.qemu as Peer, args), execAndWait(peers.agent as Peer, args)]);
    const env = (replies: string[]) => Buffer.from(returned(replies[1] as string)['out-data'] ?? '', 'base64').toString();
    assert.equal(env(g), 'LANG=C\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    assert.match(env(q), /^PATH=/m, "qemu-ga's program sees qemu-ga's environment");
    assert.notEqual(env(q), env(g));
  });

  test('a running process reports exited false on both', async () => {
    const args = { path: '/bin/sleep', arg: ['0.5'] };
    for (const peer of [peers.qemu as Peer, peers.agent as Peer]) {
      const pid = returned(await call(peer, { execute: 'guest-exec', arguments: args })).pid;
      assert.equal(await call(peer, { execute: 'guest-exec-status', arguments: { pid } }), '{"return": {"exited": false}}\n');
    }
  });
});

// Where guestlink differs from qemu-ga on purpose (docs/security.md, "Files: guest-file-*"): qemu-ga opens
// any path, following symlinks and hard links, with no limit on open handles; guestlink refuses a symlink
// beneath an allow-listed directory (even one to a file inside), a file with another hard link (unless
// --allow-file-hardlinks), and handles past --max-file-handles (128).
describe('deliberate differences from qemu-ga', { skip: !HAVE_QEMU_GA && 'qemu-ga not installed' }, () => {
  const opened = (reply: string) => /^\{"return": \d+\}\n$/.test(reply);
  const closeAll = async (peer: Peer, replies: string[]) => {
    for (const r of replies.filter(opened)) await call(peer, { execute: 'guest-file-close', arguments: { handle: returned(r) } });
  };

  test('a symlink to a file inside the tree: qemu-ga follows it, guestlink refuses it', async () => {
    writeFileSync(path.join(data, 'link-target'), 'target');
    symlinkSync('link-target', path.join(data, 'inner-link'));
    const [q, g] = [
      await call(peers.qemu as Peer, open('r', path.join(data, 'inner-link'))),
      await call(peers.agent as Peer, open('r', path.join(data, 'inner-link'))),
    ];
    assert.ok(opened(q), q);
    assert.match(g, /goes through a symbolic link beneath/);
    await closeAll(peers.qemu as Peer, [q]);
  });

  test('a file with a second hard link: qemu-ga opens it, guestlink refuses it', async () => {
    writeFileSync(path.join(work, 'linked-0600'), 'secret', { mode: 0o600 });
    linkSync(path.join(work, 'linked-0600'), path.join(data, 'hard'));
    const [q, g] = [
      await call(peers.qemu as Peer, open('r', path.join(data, 'hard'))),
      await call(peers.agent as Peer, open('r', path.join(data, 'hard'))),
    ];
    assert.ok(opened(q), q);
    assert.match(g, /has 2 hard links.*--allow-file-hardlinks/);
    await closeAll(peers.qemu as Peer, [q]);
  });

  test('129 handles open at once: qemu-ga opens them all, guestlink stops at its cap of 128', async (t) => {
    writeFileSync(path.join(data, 'many'), 'x');
    // A guestlink of its own: the shared one holds handles the sequences above left open.
    const dir = path.join(work, 'cap');
    mkdirSync(dir);
    const fresh = await startGuestlink(dir, ['--allow-file-read', `${data}/`]);
    t.after(() => fresh.stop());
    for (const peer of [peers.qemu as Peer, fresh]) {
      const replies: string[] = [];
      try {
        for (let i = 0; i < 129; i++) replies.push(await call(peer, open('r', path.join(data, 'many'))));
        assert.equal(replies.filter(opened).length, peer.name === 'qemu-ga' ? 129 : 128, peer.name);
        if (peer.name === 'guestlink') assert.match(replies[128] as string, /too many open handles \(the limit is 128.*--max-file-handles/);
      } finally {
        await closeAll(peer, replies);
      }
    }
  });
});

describe('guestlink refusals', () => {
  test('file paths outside the lists, through symlinks and ..', async () => {
    const agent = peers.agent as Peer;
    symlinkSync('/etc/passwd', path.join(data, 'passwd-link'));
    assert.equal(
      await call(agent, open('r', '/etc/shadow')),
      `{"error": {"class": "GenericError", "desc": "guest-file-open: '/etc/shadow' is not allowed for reading (allow it with --allow-file-read)"}}\n`,
    );
    assert.match(
      await call(agent, open('r', path.join(data, 'passwd-link'))),
      /goes through a symbolic link beneath '.*', which guestlink does not follow/,
    );
    assert.match(await call(agent, open('w', `${data}/../escape`)), /contains '\.\.', which guestlink refuses/);
  });

  test('exec of a program not on the list', async () => {
    assert.equal(
      await call(peers.agent as Peer, { execute: 'guest-exec', arguments: { path: '/bin/ls' } }),
      `{"error": {"class": "GenericError", "desc": "guest-exec: '/bin/ls' is not allowed (allow it with --allow-exec)"}}\n`,
    );
  });

  test('file and exec commands are disabled without allow-lists', async () => {
    const dir = path.join(work, 'default');
    mkdirSync(dir);
    const agent = await startGuestlink(dir, []);
    try {
      for (const cmd of ['guest-exec', 'guest-file-open']) {
        const reply = await call(agent, { execute: cmd, arguments: { path: '/bin/true' } });
        assert.equal(reply, `{"error": {"class": "CommandNotFound", "desc": "Command ${cmd} has been disabled"}}\n`);
      }
    } finally {
      await agent.stop();
    }
  });
});
