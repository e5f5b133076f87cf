// Attack: code into a root process through guest-exec's environment, done entirely over QGA. A tiny
// shared library whose constructor writes a marker file is written with guest-file-write into a
// write-allowed directory, then an allowed program is started with LD_PRELOAD pointing at it. Before
// the fix the constructor ran as root (the program allow-list bypassed); now the request is refused,
// also when the variable is listed in --allow-exec-env, and the marker never appears.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, type Peer, startGuestlink } from '../peer/harness.js';
import { plain, qga, show } from '../talos/helpers.js';

const HAVE_GCC = spawnSync('gcc', ['--version']).status === 0;
// Under CI a missing compiler fails the suite (scripts/apt-packages.txt installs gcc); elsewhere it skips, saying so.
const skip = HAVE_GCC ? false : process.env.CI === 'true' ? false : 'gcc is not installed (apt-get install gcc)';

describe('guest-exec: LD_PRELOAD of a library written over QGA', { skip }, () => {
  const dir = makeTempDir('guestlink-sec-preload-');
  const upload = path.join(dir, 'upload');
  const marker = path.join(dir, 'constructor-ran');
  const library = path.join(dir, 'evil.so');
  let agent: Peer;
  let listed: Peer;

  before(async () => {
    assert.ok(HAVE_GCC, 'gcc is needed to build the test library (scripts/apt-packages.txt)');
    mkdirSync(upload);
    const source = path.join(dir, 'evil.c');
    writeFileSync(
      source,
      [
        '#include <fcntl.h>',
        '#include <unistd.h>',
        'static void __attribute__((constructor)) pwn(void) {',
        '  int fd = open(MARKER, O_WRONLY | O_CREAT | O_APPEND, 0600);',
        '  if (fd >= 0) { write(fd, "ran\\n", 4); close(fd); }',
        '}',
        '',
      ].join('\n'),
    );
    const cc = spawnSync('gcc', ['-shared', '-fPIC', '-o', library, `-DMARKER="${marker}"`, source], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const common = ['--allow-exec', '/bin/echo', '--allow-file-write', `${upload}/`];
    agent = await startGuestlink(makeDir('a'), common);
    listed = await startGuestlink(makeDir('b'), [...common, '--allow-exec-env', 'LD_PRELOAD,LD_LIBRARY_PATH,GCONV_PATH']);
  });
  after(async () => {
    await Promise.all([agent?.stop(), listed?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function makeDir(name: string): string {
    const d = path.join(dir, name);
    mkdirSync(d);
    return d;
  }

  /** Writes bytes to `file` through guest-file-open/-write/-close, as a host would. */
  async function writeOverQga(peer: Peer, file: string, bytes: Buffer): Promise<void> {
    const open = plain(await qga(peer.socket, 'guest-file-open', { path: file, mode: 'w' })) as { return: number };
    assert.equal(typeof open.return, 'number', show(open));
    const wrote = plain(await qga(peer.socket, 'guest-file-write', { handle: open.return, 'buf-b64': bytes.toString('base64') }));
    assert.deepEqual(wrote, { return: { count: bytes.length, eof: false } });
    assert.deepEqual(plain(await qga(peer.socket, 'guest-file-close', { handle: open.return })), { return: {} });
  }

  test('the library works: run directly with LD_PRELOAD its constructor writes the marker (the attack is real)', () => {
    const r = spawnSync('/bin/echo', ['x'], { env: { LD_PRELOAD: library, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(marker, 'utf8'), 'ran\n');
    rmSync(marker);
  });

  for (const which of ['default', 'listed in --allow-exec-env'] as const) {
    test(`${which}: written over QGA, then guest-exec /bin/echo with LD_PRELOAD is refused; the constructor never runs`, async () => {
      const peer = which === 'default' ? agent : listed;
      const so = path.join(upload, `evil-${which === 'default' ? 'a' : 'b'}.so`);
      await writeOverQga(peer, so, readFileSync(library));
      assert.ok(existsSync(so), 'the library is in the write-allowed directory');
      for (const env of [
        [`LD_PRELOAD=${so}`],
        [`LD_PRELOAD=${so}`, 'PATH=/bin'],
        [`LD_LIBRARY_PATH=${upload}`],
        [`GCONV_PATH=${upload}`],
      ]) {
        const reply = await qga(peer.socket, 'guest-exec', { path: '/bin/echo', arg: ['hello'], env, 'capture-output': true });
        const name = (env.find((e) => e.startsWith('LD_') || e.startsWith('GCONV')) as string).split('=')[0];
        assert.deepEqual(reply, {
          error: {
            class: 'GenericError',
            desc: `guest-exec: environment variable '${name}' is refused: it changes how programs load code or run, and no setting allows it`,
          },
        });
      }
      assert.ok(!existsSync(marker), 'the constructor did not run');
      // The allowed program itself still runs, with the fixed environment.
      const ok = plain(await qga(peer.socket, 'guest-exec', { path: '/bin/echo', arg: ['hello'], 'capture-output': true })) as {
        return: { pid: number };
      };
      assert.equal(typeof ok.return.pid, 'number', show(ok));
    });
  }

  test('listing a loader variable is warned about at start-up', () => {
    assert.match(listed.stderr(), /allow-exec-env: LD_PRELOAD changes how programs load code or run; it is never allowed and is ignored/);
  });
});
