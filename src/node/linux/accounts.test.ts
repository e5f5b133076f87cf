import assert from 'node:assert/strict';
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LinuxAccounts } from './accounts.js';

// A fixture root only: etc/passwd and home dirs in a temp dir; no real user is ever touched.
const root = mkdtempSync(path.join(os.tmpdir(), 'guestlink-accounts-'));
after(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(path.join(root, 'etc'));
mkdirSync(path.join(root, 'home/alice'), { recursive: true });
mkdirSync(path.join(root, 'home/bob'), { recursive: true });
mkdirSync(path.join(root, 'elsewhere'));
writeFileSync(
  path.join(root, 'etc/passwd'),
  'root:x:0:0:root:/root:/bin/sh\nalice:x:4242:4343::/home/alice:/bin/sh\nbob:x:4244:4244::/home/bob:/bin/sh\n',
);
symlinkSync(path.join(root, 'elsewhere'), path.join(root, 'home/bob/.ssh'));
const acc = new LinuxAccounts(root);
const keysFile = path.join(root, 'home/alice/.ssh/authorized_keys');
const asRoot = process.getuid?.() === 0;

test('unknown user and missing file: qemu-ga texts', async () => {
  await assert.rejects(() => acc.authorizedKeys('nobody-here'), { desc: "failed to lookup user 'nobody-here': no such user" });
  await assert.rejects(() => acc.authorizedKeys('alice'), {
    desc: "failed to read '/home/alice/.ssh/authorized_keys': Failed to open file \u201C/home/alice/.ssh/authorized_keys\u201D: No such file or directory",
  });
});

test('add creates ~/.ssh 0700 and the file 0600 owned by the user, no duplicates, joined without final newline', {
  skip: !asRoot && 'chown needs root',
}, async () => {
  await acc.addAuthorizedKeys('alice', ['algo key2 comments'], false);
  const dirSt = lstatSync(path.join(root, 'home/alice/.ssh'));
  assert.equal(dirSt.mode & 0o777, 0o700);
  assert.equal(dirSt.uid, 4242);
  const st = lstatSync(keysFile);
  assert.equal(st.mode & 0o777, 0o600);
  assert.deepEqual([st.uid, st.gid], [4242, 4343]);
  await acc.addAuthorizedKeys('alice', ['algo key1 comments', 'algo key2 comments'], false);
  assert.equal(readFileSync(keysFile, 'utf8'), 'algo key2 comments\nalgo key1 comments');
  assert.deepEqual(readdirSync(path.join(root, 'home/alice/.ssh')), ['authorized_keys'], 'no temp file left behind');
  await acc.addAuthorizedKeys('alice', ['algo key2 comments'], true);
  assert.equal(readFileSync(keysFile, 'utf8'), 'algo key2 comments');
  await acc.addAuthorizedKeys('alice', [], true);
  assert.equal(readFileSync(keysFile, 'utf8'), '');
});

test('remove keeps comments and other keys; get skips comments and blanks, in qemu-ga (reverse) order', {
  skip: !asRoot && 'chown needs root',
}, async () => {
  writeFileSync(keysFile, 'algo key1 comments\nalgo key1 comments\n# a commented line\nalgo some-key another\n');
  await acc.removeAuthorizedKeys('alice', ['algo key2 comments']);
  assert.equal(readFileSync(keysFile, 'utf8'), 'algo key1 comments\nalgo key1 comments\n# a commented line\nalgo some-key another\n');
  assert.deepEqual(await acc.authorizedKeys('alice'), ['algo some-key another', 'algo key1 comments', 'algo key1 comments']);
  await acc.removeAuthorizedKeys('alice', ['algo key1 comments', 'algo key2 comments']);
  assert.equal(readFileSync(keysFile, 'utf8'), '# a commented line\nalgo some-key another\n');
});

test('invalid keys are refused before anything is touched', async () => {
  await assert.rejects(() => acc.addAuthorizedKeys('alice', ['not a valid\nkey'], false), {
    desc: "invalid OpenSSH public key: 'not a valid\nkey'",
  });
  await assert.rejects(() => acc.removeAuthorizedKeys('alice', ['# comment']), { desc: "invalid OpenSSH public key: '# comment'" });
});

test('a symlinked ~/.ssh is refused (no writing through a link a user planted)', async () => {
  await assert.rejects(() => acc.addAuthorizedKeys('bob', ['algo k c'], false), /symbolic link/);
  assert.deepEqual(readdirSync(path.join(root, 'elsewhere')), []);
});

test("a planted authorized_keys link (symbolic or hard) is never read as root, nor copied into the user's file", {
  skip: !asRoot && 'chown needs root',
}, async () => {
  const home = path.join(root, 'home/carol');
  mkdirSync(path.join(home, '.ssh'), { recursive: true });
  writeFileSync(
    path.join(root, 'etc/passwd'),
    `${readFileSync(path.join(root, 'etc/passwd'), 'utf8')}carol:x:4250:4250::/home/carol:/bin/sh\n`,
  );
  const secret = path.join(root, 'elsewhere-shadow');
  writeFileSync(secret, 'root:$6$secret-hash:19000:0:99999:7:::\n', { mode: 0o600 });
  const file = path.join(home, '.ssh/authorized_keys');
  symlinkSync(secret, file);
  await assert.rejects(() => acc.authorizedKeys('carol'), /Too many levels of symbolic links/);
  rmSync(file);
  linkSync(secret, file);
  await assert.rejects(() => acc.authorizedKeys('carol'), /Not a regular file with a single link/);
  // add without reset starts from the existing keys: an unreadable file contributes none.
  await acc.addAuthorizedKeys('carol', ['ssh-ed25519 AAAA carol'], false);
  assert.equal(readFileSync(file, 'utf8'), 'ssh-ed25519 AAAA carol');
  assert.match(readFileSync(secret, 'utf8'), /secret-hash/, 'the linked file itself is untouched');
});

test('setPassword feeds "user:password\\n" to chpasswd on stdin (-e when crypted), no shell', async () => {
  const fake = path.join(root, 'fake-chpasswd');
  const log = path.join(root, 'chpasswd.log');
  writeFileSync(fake, `#!/bin/sh\necho "$@" > ${log}\ncat >> ${log}\nexit \${FAKE_EXIT:-0}\n`);
  chmodSync(fake, 0o755);
  const a = new LinuxAccounts(root, { chpasswd: fake });
  await a.setPassword('alice', 'pa$$ `w0rd`;', false);
  assert.equal(readFileSync(log, 'utf8'), `-R ${root}\nalice:pa$$ \`w0rd\`;\n`);
  await a.setPassword('alice', '$6$salt$hash', true);
  assert.equal(readFileSync(log, 'utf8'), `-e -R ${root}\nalice:$6$salt$hash\n`);
  await assert.rejects(() => a.setPassword('alice', 'a\nb', false), { desc: 'forbidden characters in raw password' });
  await assert.rejects(() => a.setPassword('al:ice', 'x', false), { desc: 'forbidden characters in username' });
  const failing = path.join(root, 'failing-chpasswd');
  writeFileSync(failing, '#!/bin/sh\ncat >/dev/null\nexit 1\n');
  chmodSync(failing, 0o755);
  await assert.rejects(() => new LinuxAccounts(root, { chpasswd: failing }).setPassword('alice', 'x', false), {
    desc: 'child process has failed to set user password',
  });
});
