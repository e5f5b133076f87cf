import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { certificateRoles, endpointTarget, parseTalosconfig, relabelKey, TalosConfigError } from './talosconfig.js';

const dir = mkdtempSync(path.join(tmpdir(), 'guestlink-talosconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cert(orgs: string[]): { crt: string; key: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['genpkey', '-algorithm', 'ed25519', '-out', 'k.pem']);
  run(['req', '-x509', '-new', '-key', 'k.pem', '-days', '1', '-subj', `${orgs.map((o) => `/O=${o}`).join('')}/CN=c`, '-out', 'c.pem']);
  return { crt: readFileSync(path.join(dir, 'c.pem'), 'utf8'), key: readFileSync(path.join(dir, 'k.pem'), 'utf8') };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

test("Talos's ED25519 PRIVATE KEY label becomes PKCS#8's PRIVATE KEY; other PEMs are untouched", () => {
  const talos = '-----BEGIN ED25519 PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END ED25519 PRIVATE KEY-----\n';
  assert.equal(relabelKey(talos), '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n');
  assert.equal(relabelKey('-----BEGIN CERTIFICATE-----\n'), '-----BEGIN CERTIFICATE-----\n');
});

test('the current context is read; PEMs decoded from base64; the key relabelled', () => {
  const c = cert(['os:operator']);
  const talosKey = c.key.replace(/PRIVATE KEY/g, 'ED25519 PRIVATE KEY');
  const text = `context: b
contexts:
    a:
        endpoints: [10.0.0.1]
        ca: ${b64(c.crt)}
        crt: ${b64(c.crt)}
        key: ${b64(talosKey)}
    b:
        endpoints:
            - talos.default
        nodes:
            - 10.5.0.2
        ca: ${b64(c.crt)}
        crt: ${b64(c.crt)}
        key: ${b64(talosKey)}
`;
  const ctx = parseTalosconfig(text, 'tc');
  assert.equal(ctx.name, 'b');
  assert.deepEqual(ctx.endpoints, ['talos.default']);
  assert.deepEqual(ctx.nodes, ['10.5.0.2']);
  assert.equal(ctx.key.toString(), c.key);
  assert.equal(ctx.crt.toString(), c.crt);
  assert.equal(parseTalosconfig(text, 'tc', 'a').endpoints[0], '10.0.0.1');
});

test('broken talosconfigs are TalosConfigErrors that say what is wrong', () => {
  assert.throws(() => parseTalosconfig('context: x\ncontexts: {}\n', 'f'), /f: context "x" is not defined/);
  assert.throws(() => parseTalosconfig('contexts:\n  a:\n    ca: bm90IGEgcGVt\n', 'f'), /f: ca is not base64 of a PEM block/);
  assert.throws(() => parseTalosconfig('contexts: [', 'f'), TalosConfigError);
});

test('a talosconfig that is not YAML: line, column and kind of error, never a line of it', () => {
  const text = 'context: a\ncontexts:\n  a:\n    key: LS0tLS1CRUdJTiBFRDI1NTE5IFBSSVZBVEUgS0VZ\n   ca: "unterminated\n';
  assert.throws(
    () => parseTalosconfig(text, '/var/run/secrets/talos.dev/config'),
    (err: Error) => {
      assert.ok(err instanceof TalosConfigError);
      assert.match(
        err.message,
        /^\/var\/run\/secrets\/talos\.dev\/config: not YAML: [A-Z_]+ at line \d+, column \d+ \(the contents are not shown/,
      );
      assert.doesNotMatch(err.message, /LS0t|unterminated|key:/);
      return true;
    },
  );
});

test('roles are the Subject Organization values of the client certificate', () => {
  assert.deepEqual(certificateRoles(cert(['os:reader']).crt), ['os:reader']);
  assert.deepEqual(certificateRoles(cert(['os:admin', 'os:operator']).crt), ['os:admin', 'os:operator']);
});

test('endpoints get apid port 50000 unless they name one; IPv6 is bracketed', () => {
  assert.equal(endpointTarget('talos.default'), 'talos.default:50000');
  assert.equal(endpointTarget('10.0.0.1:50001'), '10.0.0.1:50001');
  assert.equal(endpointTarget('fd00::1'), '[fd00::1]:50000');
  assert.equal(endpointTarget('[fd00::1]:6000'), '[fd00::1]:6000');
  assert.equal(endpointTarget('https://10.0.0.2'), '10.0.0.2:50000');
});
