import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { SERVICE_ACCOUNT_CONFIG } from '../select.js';
import { type FileDeps, setupSocket, setupTalosconfig } from './setup.js';

const dir = mkdtempSync(path.join(tmpdir(), 'guestlink-talos-setup-'));
after(() => rmSync(dir, { recursive: true, force: true }));
execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', 'k.pem'], { cwd: dir });
execFileSync('openssl', ['req', '-x509', '-new', '-key', 'k.pem', '-days', '1', '-subj', '/O=os:operator/CN=sa', '-out', 'c.pem'], {
  cwd: dir,
});
const b64 = (f: string) => readFileSync(path.join(dir, f)).toString('base64');
// What a Talos ServiceAccount's Secret holds: no endpoints listed in this one.
const SA_TEXT = `context: sa\ncontexts:\n    sa:\n        ca: ${b64('c.pem')}\n        crt: ${b64('c.pem')}\n        key: ${b64('k.pem')}\n`;

const fakeFs = (text: string): FileDeps => ({
  readFile: () => text,
  mode: () => 0o100400,
  realpath: (p) => p,
  mountinfo: () => '30 22 0:25 / /var/run/secrets/talos.dev ro - tmpfs tmpfs rw\n',
  stamp: () => 'same',
});

test('the ServiceAccount config defaults to talos.default:50000 and targets --talos-node', () => {
  const s = setupTalosconfig(SERVICE_ACCOUNT_CONFIG, { talosNode: '10.5.0.2', talosRole: 'os:operator' }, fakeFs(SA_TEXT));
  assert.equal(s.target.kind, 'mtls');
  assert.equal(s.target.kind === 'mtls' && s.target.endpoint, 'talos.default:50000');
  assert.equal(s.target.kind === 'mtls' && s.target.node, '10.5.0.2');
  assert.deepEqual(s.facts.roles, ['os:operator']);
  assert.deepEqual(s.facts.file?.mount, { mountpoint: '/var/run/secrets/talos.dev', type: 'tmpfs' });
});

test('--talos-endpoint overrides; no node or no endpoint is a configuration error', () => {
  const s = setupTalosconfig('/x', { talosNode: '10.5.0.2', talosEndpoint: '10.0.0.9', talosRole: 'os:operator' }, fakeFs(SA_TEXT));
  assert.equal(s.target.kind === 'mtls' && s.target.endpoint, '10.0.0.9:50000');
  assert.throws(() => setupTalosconfig('/x', { talosRole: 'os:operator' }, fakeFs(SA_TEXT)), /talos-node is required/);
  assert.throws(() => setupTalosconfig('/x', { talosNode: '10.5.0.2', talosRole: 'os:operator' }, fakeFs(SA_TEXT)), /lists no endpoint/);
});

test('socket mode claims the configured role', () => {
  const s = setupSocket('/run/m.sock', { talosRole: 'os:operator' });
  assert.deepEqual(s.target, { kind: 'socket', path: '/run/m.sock', role: 'os:operator' });
  assert.deepEqual(s.facts.roles, ['os:operator']);
});
