// Differential tests: the very same bytes go to the real qemu-ga 7.2 and to guestlink, and the reply
// bytes must be identical (framing, parse errors, envelope errors, argument errors, id echo, numbers).
// Where guestlink differs on purpose, the difference is asserted explicitly and explained.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type Chunk,
  countReplies,
  exchangeUntilSync,
  HAVE_QEMU_GA,
  makeTempDir,
  type Peer,
  type Peers,
  QEMU_BLOCK,
  QEMU_GA,
  RawClient,
  resync,
  showBytes,
  splitReplies,
  startGuestlink,
  startPeers,
  startQemuGa,
} from './harness.js';

const skip = HAVE_QEMU_GA ? false : `qemu-ga is not installed (${QEMU_GA})`;
const FF = Buffer.from([0xff]);
const b = (s: string) => Buffer.from(s, 'latin1'); // one char = one byte: lets a case spell raw bytes
const ping = '{"execute":"guest-ping"}\n';
const withId = (id: string) => `{"execute":"guest-ping","id":${id}}\n`;
const sync = (id: string) => `{"execute":"guest-sync","arguments":{"id":${id}}}\n`;
const call = (name: string, args: string) => `{"execute":"${name}","arguments":${args}}\n`;

interface Case {
  name: string;
  send: Chunk[];
  /** Replies qemu-ga sends (the test checks it, so that a silent peer cannot make a case pass). */
  replies: number;
}

function c(name: string, send: Chunk[] | Chunk, replies = 1): Case {
  return { name, send: Array.isArray(send) ? send : [send], replies };
}

const FRAMING: Case[] = [
  c('split frame over three writes with pauses', ['{"execute":"guest-', { pause: 80 }, 'sync","argu', { pause: 80 }, 'ments":{"id":7}}\n']),
  c('split inside an escape', ['{"execute":"guest-ping","id":"a\\', { pause: 50 }, 'u00e9"}\n']),
  c('split inside a UTF-8 sequence', [b('{"execute":"guest-ping","id":"\xc3'), { pause: 50 }, b('\xa9"}\n')]),
  c('split inside a number', ['{"execute":"guest-sync","arguments":{"id":12', { pause: 50 }, '34}}\n']),
  c('split inside a keyword', ['{"execute":"guest-ping","id":tr', { pause: 50 }, 'ue}\n']),
  c(
    'one byte per write',
    [...'{"execute":"guest-ping"}\n'].map((ch) => ch),
    1,
  ),
  c('two requests in one write', '{"execute":"guest-ping"}{"execute":"guest-sync","arguments":{"id":9}}\n', 2),
  c('three requests, no newlines', '{"execute":"guest-ping"}{"execute":"guest-ping"}{"execute":"guest-ping"}', 3),
  c('no newline needed after a request', '{"execute":"guest-ping"}', 1),
  c('whitespace everywhere', ' \t\r\n{ "execute" :\t"guest-ping" ,\r\n "id" : 1 }\n', 1),
  c('0xFF alone', [FF], 1),
  c('0xFF then a request', [FF, ping], 2),
  c('0xFE then a request', [b('\xfe'), ping], 2),
  c('0xFF in the middle of a request, then a request', [b('{"execute":"guest-ping"\xff'), ping], 2),
  c('0xFF inside a string', [b('{"execute":"guest-ping","id":"ab\xffcd"}\n'), ping], 3),
  c('guest-sync-delimited without a leading 0xFF', '{"execute":"guest-sync-delimited","arguments":{"id":123}}\n'),
  c('guest-sync-delimited with a leading 0xFF', [FF, '{"execute":"guest-sync-delimited","arguments":{"id":123}}\n'], 2),
  c(
    'guest-sync-delimited then ping: only the first reply is prefixed',
    ['{"execute":"guest-sync-delimited","arguments":{"id":5}}', ping],
    2,
  ),
  c('guest-sync-delimited with bad arguments is not prefixed', ['{"execute":"guest-sync-delimited","arguments":{"id":"x"}}\n', ping], 2),
  c(
    'Proxmox style: 0xFF-less sync-delimited and command in one write',
    '{"execute":"guest-sync-delimited","arguments":{"id":42}}\n{"execute":"guest-ping"}\n',
    2,
  ),
  c('garbage between two requests', '{"execute":"guest-ping"}xyz{"execute":"guest-ping"}\n', 3),
  c('control byte before a request', [b('\x01'), ping], 2),
  c('a 100 KiB request (qemu-ga reads 4 KiB at a time)', withId(`"${'x'.repeat(100 * 1024)}"`), 1),
  c('100 requests in one write are answered in order', Array.from({ length: 100 }, (_, i) => sync(String(i))).join(''), 100),
];

const MALFORMED: Case[] = [
  c('malformed-json-garbage', '{"execute": guest-ping}\n', 2),
  c('malformed-json-line (unterminated)', '{"execute":"guest-ping"\n', 0),
  c('malformed json then sync', '{"execute": guest-ping}\n{"execute":"guest-sync","arguments":{"id":5}}\n', 3),
  c('nested garbage', '{"execute":"guest-ping","arguments":{"a":{"b":[1,{"c":x}]}}}\n', 1),
  c('nested garbage, more', '{"a":[{"b":{"c":[@]}}]}\n', 6),
  c('unterminated string followed by a newline', '{"execute":"guest-ping","id":"abc\n', 1),
  c('unterminated string, newline, then a request', ['{"execute":"guest-ping","id":"abc\n', ping], 2),
  c('control character inside a string', b('{"execute":"guest-ping","id":"a\x01b"}\n'), 2),
  c('tab inside a string', b('{"execute":"guest-ping","id":"a\tb"}\n'), 2),
  c('DEL inside a string', b('{"execute":"guest-ping","id":"a\x7fb"}\n'), 1),
  c('invalid UTF-8: lone lead byte', b('{"execute":"guest-ping","id":"\xc3("}\n'), 1),
  c('invalid UTF-8: continuation byte', b('{"execute":"guest-ping","id":"\x80"}\n'), 1),
  c('invalid UTF-8: overlong', b('{"execute":"guest-ping","id":"\xc1\xbf"}\n'), 1),
  c('invalid UTF-8: encoded surrogate', b('{"execute":"guest-ping","id":"\xed\xa0\x80"}\n'), 1),
  c('invalid UTF-8: beyond U+10FFFF', b('{"execute":"guest-ping","id":"\xf4\x90\x80\x80"}\n'), 1),
  c('invalid UTF-8: 5-byte form', b('{"execute":"guest-ping","id":"\xf8\x88\x80\x80\x80"}\n'), 1),
  c('invalid UTF-8: noncharacter U+FDD0', b('{"execute":"guest-ping","id":"\xef\xb7\x90"}\n'), 1),
  c('invalid UTF-8: noncharacter U+FFFE', b('{"execute":"guest-ping","id":"\xef\xbf\xbe"}\n'), 1),
  c('invalid UTF-8: noncharacter U+1FFFF', b('{"execute":"guest-ping","id":"\xf0\x9f\xbf\xbf"}\n'), 1),
  c('modified UTF-8: C0 80 is U+0000', b('{"execute":"guest-ping","id":"a\xc0\x80b"}\n'), 1),
  c('valid UTF-8: 4 bytes', b('{"execute":"guest-ping","id":"\xf0\x9f\x98\x80"}\n'), 1),
  c('invalid \\u escape: bad hex', '{"execute":"guest-ping","id":"\\u12G4"}\n', 1),
  c('invalid \\u escape: short', '{"execute":"guest-ping","id":"\\u12"}\n', 1),
  c('invalid \\u escape: one digit then the end of the string', '{"execute":"guest-ping","id":"\\u1"}\n', 1),
  c('invalid \\u escape: at the end of a single-quoted string', "{'execute':'guest-ping','id':'\\u12'}\n", 1),
  c('invalid \\u escape: lone high surrogate', '{"execute":"guest-ping","id":"\\uD83D"}\n', 1),
  c('invalid \\u escape: a raw non-ASCII byte in it', b('{"execute":"guest-ping","id":"\\u\x80D83"}\n'), 1),
  c('invalid \\u escape: lone low surrogate', '{"execute":"guest-ping","id":"\\uDC00"}\n', 1),
  c('invalid \\u escape: high surrogate then a letter', '{"execute":"guest-ping","id":"\\uD83D\\u0041"}\n', 1),
  c('invalid \\u escape: noncharacter', '{"execute":"guest-ping","id":"\\uFFFF"}\n', 1),
  c('invalid \\u escape: noncharacter pair', '{"execute":"guest-ping","id":"\\uDBFF\\uDFFF"}\n', 1),
  c('valid \\u escape: surrogate pair', '{"execute":"guest-ping","id":"\\uD83D\\uDE00"}\n', 1),
  c('valid \\u escape: U+0000', '{"execute":"guest-ping","id":"\\u0000"}\n', 1),
  c('invalid escape letter', '{"execute":"guest-ping","id":"\\x"}\n', 1),
  c('all simple escapes', '{"execute":"guest-ping","id":"\\/\\b\\f\\n\\r\\t\\"\\\\\\\'"}\n', 1),
  c('duplicate keys', '{"execute":"guest-ping","execute":"guest-ping"}\n', 1),
  c('duplicate keys in arguments', '{"execute":"guest-sync","arguments":{"id":1,"id":2}}\n', 1),
  c('keyword typo tru', withId('tru'), 1),
  c('keyword typo nul', withId('nul'), 1),
  c('keyword typo truee', withId('truee'), 1),
  c('keyword in capitals', withId('True'), 2),
  c('single-quoted strings', "{'execute':'guest-ping','id':'it\\'s'}\n", 1),
  c('single-quoted string with a double quote', "{'execute':'guest-ping','id':'say \"hi\"'}\n", 1),
  c('trailing comma in object', '{"execute":"guest-ping",}\n', 1),
  c('trailing comma in list', '{"execute":"guest-ping","id":[1,]}\n', 1),
  c('missing comma', '{"execute":"guest-ping" "id":1}\n', 1),
  c('missing colon', '{"execute""guest-ping"}\n', 1),
  c('non-string key', '{1:2}\n', 1),
  c('list without separator', '[1 2]\n', 1),
  c('closing bracket alone', ']\n', 1),
  c('closing brace alone', '}\n', 1),
  c('colon alone', ':\n', 1),
  c('leading zero', withId('01'), 2),
  c('minus alone', withId('-'), 1),
  c('dot without digits', withId('1.'), 1),
  c('exponent without digits', withId('1e'), 1),
  c('leading dot', withId('.5'), 2),
  c('plus sign', withId('+5'), 2),
  c('garbage before a request', `abc${ping}`, 2),
  c(
    'stray bytes are shown as qemu groups them: C0 9B is one bad sequence, A8 another',
    b('{"execute":"guest-ping","id":"gue\xc0\x9b\xa8\x0b"}\n'),
    2,
  ),
  c('stray text ends at a NUL byte', b('{"execute":"guest-ping","id":"a\x00b"}\n'), 2),
  c('NUL byte alone, then a request', [b('\x00'), ping], 2),
  c('stray encoded surrogate is one U+FFFD', b('{"execute":"guest-ping","id":"\xed\xa0\x80\x01"}\n'), 2),
  c('stray noncharacter is one U+FFFD', b('{"execute":"guest-ping","id":"\xef\xbf\xbf\x01"}\n'), 2),
  c('stray C0 80 is U+0000', b('{"execute":"guest-ping","id":"\xc0\x80\x01"}\n'), 2),
  c('stray 6-byte form is one U+FFFD', b('{"execute":"guest-ping","id":"\xfc\x80\x80\x80\x80\x80\x01"}\n'), 2),
  c('stray truncated sequence is one U+FFFD', b('{"execute":"guest-ping","id":"\xf0\x80\x01"}\n'), 2),
  c('UTF-8 outside a string', [b('\xc3\xa9'), ping], 2),
];

const ENVELOPE: Case[] = [
  c('not-an-object', '[1,2,3]\n'),
  c('bare-number', '123\n'),
  c('bare string', '"str"\n'),
  c('bare null', 'null\n'),
  c('bare true', 'true\n'),
  c('empty-object', '{}\n'),
  c('missing-execute', '{"arguments":{}}\n'),
  c('execute-not-string', '{"execute":1}\n'),
  c('execute null', '{"execute":null}\n'),
  c('extra-key', '{"execute":"guest-ping","foo":1}\n'),
  c('exec-oob', '{"exec-oob":"guest-ping"}\n'),
  c('arguments a list', '{"execute":"guest-ping","arguments":[]}\n'),
  c('arguments null', '{"execute":"guest-ping","arguments":null}\n'),
  c('id before execute', '{"id":1,"execute":"guest-ping"}\n'),
  c('error reply echoes the id', '{"execute":"guest-nope","id":"x"}\n'),
  c('envelope error echoes the id', '{"execute":"guest-ping","foo":1,"id":7}\n'),
  c("several bad members: qemu's QDict order decides (1)", '{"path":1,"arg":2,"env":3,"capture-output":4}\n'),
  c("several bad members: qemu's QDict order decides (2)", '{"foo":1,"execute":2}\n'),
  c("several bad members: qemu's QDict order decides (3)", '{"f":1,"e":2,"d":3,"c":4,"b":5,"a":6}\n'),
  c("several bad members: qemu's QDict order decides (4)", '{"execute":"guest-ping","arguments":1,"zz":1,"yy":2}\n'),
];

const COMMANDS: Case[] = [
  c('guest-ping', ping),
  c('guest-ping with empty arguments', call('guest-ping', '{}')),
  c('guest-sync', sync('1234')),
  c('guest-sync negative id', sync('-1')),
  c('unknown command', '{"execute":"guest-nope"}\n'),
  c('unknown command, empty name', '{"execute":""}\n'),
  c('disabled command (blocked with -b on both)', '{"execute":"guest-shutdown"}\n'),
  c('disabled command with bad arguments: disabled wins', call('guest-set-time', '{"bogus":1}')),
  c('missing argument', '{"execute":"guest-sync"}\n'),
  c('missing argument, empty arguments', call('guest-sync', '{}')),
  c('unexpected argument', call('guest-ping', '{"foo":1}')),
  c('unexpected argument besides a good one', call('guest-sync', '{"id":1,"x":2}')),
  c('wrong type: string for int', sync('"a"')),
  c('wrong type: float for int', sync('1.5')),
  c('wrong type: bool for int', sync('true')),
  c('wrong type: null for int', sync('null')),
  c('wrong type: object for int', sync('{}')),
  c('int above int64 for int', sync('9223372036854775808')),
  c('int64 max for int', sync('9223372036854775807')),
  c('int64 min for int', sync('-9223372036854775808')),
  c('uint64 max for int', sync('18446744073709551615')),
  c('above uint64 for int', sync('18446744073709551616')),
  c('guest-exec arg[0] wrong type', call('guest-exec', '{"path":"/bin/true","arg":[1]}')),
  c('guest-exec arg[2] wrong type', call('guest-exec', '{"path":"/bin/true","arg":["a","b",null]}')),
  c('guest-exec arg not a list', call('guest-exec', '{"path":"/bin/true","arg":"a"}')),
  c('guest-exec env[0] wrong type', call('guest-exec', '{"path":"/bin/true","env":[{}]}')),
  c('guest-exec path missing', call('guest-exec', '{"arg":[]}')),
  c('guest-exec input-data wrong type', call('guest-exec', '{"path":"/bin/true","input-data":5}')),
  c('guest-exec-status pid missing', call('guest-exec-status', '{}')),
  c('guest-file-seek enum value', call('guest-file-seek', '{"handle":1,"offset":0,"whence":"bogus"}')),
  c('guest-file-seek whence wrong type', call('guest-file-seek', '{"handle":1,"offset":0,"whence":[]}')),
  c('guest-file-seek whence float', call('guest-file-seek', '{"handle":1,"offset":0,"whence":1.5}')),
  c('guest-file-seek whence null', call('guest-file-seek', '{"handle":1,"offset":0,"whence":null}')),
  c('guest-file-seek whence bool', call('guest-file-seek', '{"handle":1,"offset":0,"whence":true}')),
  c('guest-file-seek unknown handle', call('guest-file-seek', '{"handle":1,"offset":0,"whence":"set"}')),
  c('guest-file-seek unknown handle, int whence', call('guest-file-seek', '{"handle":1,"offset":0,"whence":0}')),
  c('guest-file-open path missing', call('guest-file-open', '{"mode":"r"}')),
  c('guest-file-read unknown handle', call('guest-file-read', '{"handle":999999}')),
  c('guest-file-close unknown handle', call('guest-file-close', '{"handle":5}')),
  c('guest-file-write buf-b64 wrong type', call('guest-file-write', '{"handle":5,"buf-b64":1}')),
  c('guest-get-fsinfo with an argument', call('guest-get-fsinfo', '{"x":1}')),
  c('guest-ssh-get-authorized-keys username wrong type', call('guest-ssh-get-authorized-keys', '{"username":1}')),
];

const IDS: Case[] = [
  c('id string', withId('"abc"')),
  c('id int', withId('42')),
  c('id zero', withId('0')),
  c('id negative zero', withId('-0')),
  c('id object', withId('{"a":[1,"x",null,true,false],"b":{}}')),
  c('id list', withId('[1,[2,[3]]]')),
  c('id null', withId('null')),
  c('id bool', withId('true')),
  c('id unicode', b('{"execute":"guest-ping","id":"\xc3\xa9\xe2\x9c\x93"}\n')),
  c('id unicode escapes', withId('"\\u00e9\\u2713\\uD83D\\uDE00"')),
  c('id with DEL and controls escaped', withId('"\\u007f\\u0001\\u001f"')),
  c('id empty string', withId('""')),
  c('id int64 max', withId('9223372036854775807')),
  c('id int64 min', withId('-9223372036854775808')),
  c('id uint64 max', withId('18446744073709551615')),
  c('id above uint64', withId('18446744073709551616')),
  c('id below int64 min', withId('-9223372036854775809')),
  c('id 2^53+1', withId('9007199254740993')),
  c('id huge integer', withId('123456789012345678901234567890')),
  c('id float 1.5', withId('1.5')),
  c('id float 0.1', withId('0.1')),
  c('id float 1e-7', withId('1e-7')),
  c('id float 1e400', withId('1e400')),
  c('id float -1e400', withId('-1e400')),
  c('id float 1.0', withId('1.0')),
  c('id float -0.0', withId('-0.0')),
  c('id float 1E5', withId('1E5')),
  c('id float 1e17', withId('1e17')),
  c('id float 1e16', withId('1e16')),
  c('id float 123456.789e3', withId('123456.789e3')),
  c('id float 5e-324', withId('5e-324')),
  c('id float 1.7976931348623157e308', withId('1.7976931348623157e308')),
  c('id float 0.0001', withId('0.0001')),
  c('id float 0.00001', withId('0.00001')),
  c('id in a sync reply', b('{"execute":"guest-sync","arguments":{"id":1},"id":"\xc3\xa9"}\n')),
  c('sync id int64 max echoed', sync('9223372036854775807')),
];

const NESTING: Case[] = [
  c('nesting 1024 levels of lists', `${'['.repeat(1024)}${']'.repeat(1024)}\n`, 1),
  c('nesting 1024 levels in the id', `{"execute":"guest-ping","id":${'['.repeat(1023)}${']'.repeat(1023)}}\n`, 1),
];

describe('guestlink and qemu-ga give the same bytes', { skip }, () => {
  let peers: Peers;
  before(async () => {
    // guest-exec and guest-file-* are off by default in guestlink (known difference 4): turn them on
    // with allow-lists that match nothing the cases would run, so argument checking can be compared.
    peers = await startPeers({
      agentArgs: ['--allow-exec', '/nonexistent/program', '--allow-file-read', '/nonexistent/dir/'],
    });
  });
  after(async () => peers?.stop());

  for (const [group, cases] of Object.entries({ FRAMING, MALFORMED, ENVELOPE, COMMANDS, IDS, NESTING })) {
    describe(group.toLowerCase(), () => {
      for (const k of cases) {
        test(k.name, async () => {
          const quietMs = k.replies === 0 ? 300 : 1500;
          const [q, g] = await peers.both(k.send, { replies: k.replies, quietMs });
          assert.equal(countReplies(q), k.replies, `qemu-ga sent ${showBytes(q)}`);
          assert.equal(showBytes(g), showBytes(q));
          assert.ok(g.equals(q));
        });
      }
    });
  }

  test('guest-sync-delimited: reply starts with 0xFF and ends with a newline', async () => {
    const [q, g] = await peers.both(['{"execute":"guest-sync-delimited","arguments":{"id":77}}\n'], { replies: 1 });
    for (const r of [q, g]) assert.equal(showBytes(r), '\\xff{"return": 77}\\n');
  });

  test('nesting deeper than 1024 levels: "JSON nesting depth limit exceeded", then the same recovery', async () => {
    const deep = `{"execute":"guest-ping","id":${'['.repeat(1030)}${']'.repeat(1030)}}\n${ping}`;
    const [q, g] = await peers.both([deep], { quietMs: 800, timeoutMs: 10_000 });
    assert.match(q.toString(), /JSON nesting depth limit exceeded/);
    assert.equal(showBytes(g), showBytes(q));
  });

  test('nesting 1025 levels of objects', async () => {
    const deep = `${'{"a":'.repeat(1025)}1${'}'.repeat(1025)}\n${ping}`;
    const [q, g] = await peers.both([deep], { quietMs: 800, timeoutMs: 10_000 });
    assert.match(q.toString(), /JSON nesting depth limit exceeded/);
    assert.equal(showBytes(g), showBytes(q));
  });

  test('guest-info: same shape; every qemu-ga command exists in guestlink with the same success-response', async () => {
    const [q, g] = await peers.both(['{"execute":"guest-info"}\n'], { replies: 1 });
    const qi = JSON.parse(q.toString()).return;
    const gi = JSON.parse(g.toString()).return;
    assert.deepEqual(Object.keys(gi), Object.keys(qi));
    assert.equal(typeof gi.version, 'string');
    const mine = new Map<string, { name: string; enabled: boolean; 'success-response': boolean }>();
    for (const cmd of gi.supported_commands) {
      assert.deepEqual(
        Object.keys(cmd),
        ['enabled', 'name', 'success-response'].filter((k) => k in cmd),
      );
      mine.set(cmd.name, cmd);
    }
    for (const cmd of qi.supported_commands) {
      assert.deepEqual(Object.keys(cmd).sort(), ['enabled', 'name', 'success-response']);
      const ours = mine.get(cmd.name);
      assert.ok(ours, `guestlink lacks ${cmd.name}`);
      assert.equal(ours['success-response'], cmd['success-response'], cmd.name);
      // Blocked on both: disabled on both.
      if (QEMU_BLOCK.includes(cmd.name)) assert.equal(ours.enabled, false, cmd.name);
    }
    assert.ok(mine.size >= qi.supported_commands.length);
  });

  test('guest-info key order matches qemu-ga byte for byte up to the command list', async () => {
    const [q, g] = await peers.both(['{"execute":"guest-info"}\n'], { replies: 1 });
    const prefix = (r: Buffer) =>
      r
        .toString()
        .replace(/"version": "[^"]*"/, '"version": ""')
        .slice(0, 40);
    assert.equal(prefix(g), prefix(q));
    const firstCmd = (r: Buffer) => /\{"enabled": (true|false), "name": "[^"]+", "success-response": (true|false)\}/.test(r.toString());
    assert.ok(firstCmd(q));
    assert.ok(firstCmd(g));
  });

  test('oversize request: a string token of 64 MiB + 1 bytes gets the same replies; guestlink memory stays bounded', async (t) => {
    const agent = peers.agent as Peer;
    const head = '{"execute":"guest-ping","id":"';
    const body = Buffer.alloc((64 << 20) + 1, 0x61);
    const tail = `"}\n${ping}`;
    const rssBefore = agent.rssKiB() ?? 0;
    let peak = rssBefore;
    const timer = setInterval(() => {
      peak = Math.max(peak, agent.rssKiB() ?? 0);
    }, 20);
    try {
      const [q, g] = await peers.both([head, body, tail], { quietMs: 1500, timeoutMs: 60_000 });
      assert.match(q.toString(), /JSON token size limit exceeded/);
      assert.equal(showBytes(g), showBytes(q));
    } finally {
      clearInterval(timer);
    }
    // The agent holds at most one token of 64 MiB (plus Node's socket buffers): far below 4x that.
    t.diagnostic(`guestlink RSS ${rssBefore} KiB before, ${peak} KiB peak`);
    assert.ok(peak - rssBefore < 256 * 1024, `RSS grew by ${peak - rssBefore} KiB`);
  });

  test('differential fuzz: mutated requests give the same bytes from both (seeded)', async () => {
    const qemu = peers.qemu as Peer;
    const agent = peers.agent as Peer;
    // Requests whose replies depend only on the protocol code (no host state): mutated, then compared.
    const corpus = [
      '{"execute":"guest-ping","id":"abc"}',
      '{"execute":"guest-sync","arguments":{"id":1234}}',
      '{"execute":"guest-sync-delimited","arguments":{"id":42}}',
      '{"execute":"guest-exec","arguments":{"path":"/nonexistent/program","arg":["a"],"env":["A=b"],"capture-output":true}}',
      '{"execute":"guest-file-seek","arguments":{"handle":1000,"offset":-1,"whence":"cur"}}',
      '{"execute":"guest-shutdown","arguments":{"mode":"reboot"}}',
      "{'execute':'guest-ping','id':'\\u00e9\\uD83D\\uDE00'}",
      '{"execute":"guest-sync","arguments":{"id":-5},"id":[1.5e3,{"x":"y"}]}',
      '{"execute":"guest-get-fsinfo","arguments":{"a":1}}',
    ].map((x) => Buffer.from(x));
    const pieces = [...'{}[],:"\'\\ 0123456789.eE-+tfnu'].map((ch) => Buffer.from(ch));
    const numbers = ['1e400', '-0', '0.1', '18446744073709551616', '-9223372036854775809', '1.5', '01', '1E-7'].map((x) => Buffer.from(x));
    const mutation = fc.record({
      at: fc.nat(),
      del: fc.nat({ max: 6 }),
      ins: fc.oneof(fc.uint8Array({ maxLength: 6 }), fc.constantFrom(...pieces), fc.constantFrom(...numbers)),
    });
    const input = fc.tuple(fc.constantFrom(...corpus), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([base, muts]) => {
      let out = base;
      for (const m of muts) {
        const at = m.at % (out.length + 1);
        out = Buffer.concat([out.subarray(0, at), Buffer.from(m.ins), out.subarray(Math.min(out.length, at + m.del))]);
      }
      return Buffer.concat([out, Buffer.from('\n')]);
    });
    await fc.assert(
      fc.asyncProperty(input, async (bytes) => {
        const [q, g] = await Promise.all([exchangeUntilSync(qemu.socket, [bytes]), exchangeUntilSync(agent.socket, [bytes])]);
        if (!g.equals(q) && q.includes('Guest agent command failed')) {
          // A mutated path that qemu-ga tried to run: guestlink runs only allow-listed programs.
          assert.match(g.toString(), /Command guest-exec has been disabled|is not allowed \(allow it with --allow-exec\)/);
          return;
        }
        assert.equal(showBytes(g), showBytes(q), `sent ${showBytes(bytes)}`);
      }),
      { numRuns: Number(process.env.GUESTLINK_DIFF_FUZZ_RUNS ?? 150), seed: Number(process.env.GUESTLINK_FUZZ_SEED ?? 7) },
    );
  });

  describe('known deliberate differences', () => {
    test('(1) qemu-ga keeps a half-received request across connections; guestlink resets per connection', async () => {
      const qemu = peers.qemu as Peer;
      const agent = peers.agent as Peer;
      await resync(qemu);
      const results: Buffer[] = [];
      for (const peer of [qemu, agent]) {
        const first = await RawClient.connect(peer.socket);
        await first.write('{"execute":"guest-');
        await first.close();
        results.push(await peer.send(['ping"}\n'], { quietMs: 500 }));
      }
      const [q, g] = results as [Buffer, Buffer];
      // qemu-ga: the new client's first bytes complete the old client's request.
      assert.equal(q.toString(), '{"return": {}}\n');
      // guestlink: a new host conversation starts clean, so 'ping"}' is garbage of its own.
      assert.ok(countReplies(g) >= 1);
      for (const line of splitReplies(g))
        assert.match(line.toString(), /^\{"error": \{"class": "GenericError", "desc": "JSON parse error, /);
      assert.equal((await agent.send([ping], { replies: 1 })).toString(), '{"return": {}}\n');
    });

    // The request envelope is checked in qemu's QDict order (replicated in request.ts), but the
    // argument checker's GHashTable order is glib-internal: guestlink names the first key sent.
    test('(2) several unexpected arguments: qemu-ga names one in hash order, guestlink the first sent', async () => {
      const [q, g] = await peers.both([call('guest-ping', '{"zeta":1,"alpha":2}')], { replies: 1 });
      assert.match(q.toString(), /^\{"error": \{"class": "GenericError", "desc": "Parameter '(zeta|alpha)' is unexpected"\}\}\n$/);
      assert.equal(g.toString(), `{"error": {"class": "GenericError", "desc": "Parameter 'zeta' is unexpected"}}\n`);
    });

    test("(3) capture-output: guestlink also accepts qemu 8.0's mode names, qemu-ga 7.2 wants a boolean", async () => {
      const [q, g] = await peers.both([call('guest-exec', '{"path":"/nonexistent/program","capture-output":"separated"}')], { replies: 1 });
      assert.equal(
        q.toString(),
        `{"error": {"class": "GenericError", "desc": "Invalid parameter type for 'capture-output', expected: boolean"}}\n`,
      );
      // guestlink gets past argument checking: the failure comes from running the program.
      assert.doesNotMatch(g.toString(), /capture-output/);
      // A wrong type is named as qemu 8.0 names it (the alternate), where 7.2 says boolean.
      const [q2, g2] = await peers.both([call('guest-exec', '{"path":"/bin/true","capture-output":1}')], { replies: 1 });
      assert.equal(
        q2.toString(),
        `{"error": {"class": "GenericError", "desc": "Invalid parameter type for 'capture-output', expected: boolean"}}\n`,
      );
      assert.equal(
        g2.toString(),
        `{"error": {"class": "GenericError", "desc": "Invalid parameter type for 'capture-output', expected: GuestExecCaptureOutput"}}\n`,
      );
    });

    test('(4) guest-exec and guest-file-* are disabled by default in guestlink', async () => {
      const dir = makeTempDir();
      const plain = await startGuestlink(dir, ['-b', QEMU_BLOCK.join(',')]);
      try {
        for (const name of ['guest-exec', 'guest-exec-status', 'guest-file-open', 'guest-file-read', 'guest-file-seek']) {
          const g = await plain.send([`{"execute":"${name}"}\n`], { replies: 1 });
          assert.equal(g.toString(), `{"error": {"class": "CommandNotFound", "desc": "Command ${name} has been disabled"}}\n`);
        }
        const info = JSON.parse((await plain.send(['{"execute":"guest-info"}\n'], { replies: 1 })).toString()).return;
        const exec = info.supported_commands.find((x: { name: string }) => x.name === 'guest-exec');
        assert.equal(exec.enabled, false);
        // qemu-ga runs them (here: argument checking answers).
        const q = await (peers.qemu as Peer).send([call('guest-exec', '{}')], { replies: 1 });
        assert.equal(q.toString(), `{"error": {"class": "GenericError", "desc": "Parameter 'path' is missing"}}\n`);
      } finally {
        await plain.stop();
        (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
      }
    });
    test('(5) account changes are off by default in guestlink (--allow-account-changes turns them on); qemu-ga runs them', async () => {
      const ACCOUNT_CHANGES = ['guest-set-user-password', 'guest-ssh-add-authorized-keys', 'guest-ssh-remove-authorized-keys'];
      const dir = makeTempDir();
      // Both without -b for these three; each request lacks its arguments, so nothing is ever changed.
      const block = QEMU_BLOCK.filter((n) => !ACCOUNT_CHANGES.includes(n)).join(',');
      const qemu = await startQemuGa(dir, ['-b', block]);
      const plain = await startGuestlink(dir, ['-b', block]);
      try {
        for (const name of ACCOUNT_CHANGES) {
          const q = await qemu.send([call(name, '{}')], { replies: 1 });
          assert.equal(q.toString(), `{"error": {"class": "GenericError", "desc": "Parameter 'username' is missing"}}\n`, name);
          const g = await plain.send([call(name, '{}')], { replies: 1 });
          assert.equal(g.toString(), `{"error": {"class": "CommandNotFound", "desc": "Command ${name} has been disabled"}}\n`, name);
        }
        const info = JSON.parse((await plain.send(['{"execute":"guest-info"}\n'], { replies: 1 })).toString()).return;
        const enabled = (n: string) => info.supported_commands.find((x: { name: string }) => x.name === n).enabled;
        for (const name of ACCOUNT_CHANGES) assert.equal(enabled(name), false, `guest-info shows ${name} disabled`);
        assert.equal(enabled('guest-ssh-get-authorized-keys'), true, 'reading public keys stays on, as in qemu-ga');
      } finally {
        await Promise.all([qemu.stop(), plain.stop()]);
      }
      const opted = await startGuestlink(makeTempDir(), ['-b', block, '--allow-account-changes']);
      try {
        const g = await opted.send([call('guest-set-user-password', '{}')], { replies: 1 });
        assert.equal(g.toString(), `{"error": {"class": "GenericError", "desc": "Parameter 'username' is missing"}}\n`);
      } finally {
        await opted.stop();
      }
    });
  });
});

describe('oversize requests with a small --max-request-bytes', () => {
  test('a 2 MiB string with a 1 MiB limit: one parse error, then the agent answers again; RSS stays small', async (t) => {
    const peers = await startPeers({ qemu: false, agentArgs: ['--max-request-bytes', String(1 << 20)] });
    try {
      const agent = peers.agent as Peer;
      const before = agent.rssKiB() ?? 0;
      const out = await agent.send(['{"execute":"guest-ping","id":"', Buffer.alloc(2 << 20, 0x62), `"}\n${ping}`], {
        quietMs: 800,
      });
      const lines = splitReplies(out).map((l) => l.toString());
      assert.equal(lines[0], '{"error": {"class": "GenericError", "desc": "JSON token size limit exceeded"}}\n');
      assert.equal(lines.at(-1), '{"return": {}}\n');
      const grown = (agent.rssKiB() ?? 0) - before;
      t.diagnostic(`guestlink RSS grew by ${grown} KiB`);
      assert.ok(grown < 64 * 1024, `RSS grew by ${grown} KiB`);
    } finally {
      await peers.stop();
    }
  });
});
