import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentUnreachableError, QgaRemoteError, QgaTimeoutError, UnsupportedError } from '../errors.js';
import { globToRegExp, mapVirshError } from './libvirt.js';
import { mapPveError } from './pve-http.js';

test("virsh's agent errors keep qemu-ga's description; the class is recovered from its wording", () => {
  const e = mapVirshError(
    "error: internal error: unable to execute QEMU agent command 'guest-exec': Command guest-exec has been disabled: the agent configuration",
  );
  assert.ok(e instanceof QgaRemoteError);
  assert.equal(e.errorClass, 'CommandNotFound');
  assert.equal(e.desc, 'Command guest-exec has been disabled: the agent configuration');
  const g = mapVirshError(
    "error: internal error: unable to execute QEMU agent command 'guest-file-open': failed to open file '/x' (mode: 'r'): No such file or directory",
  );
  assert.ok(g instanceof QgaRemoteError && g.errorClass === 'GenericError');
  assert.ok(mapVirshError('error: Guest agent is not responding: QEMU guest agent is not connected') instanceof QgaTimeoutError);
  assert.ok(mapVirshError("error: failed to get domain 'nope'") instanceof AgentUnreachableError);
});

test('Proxmox errors: auth, permissions, agent errors in both wordings, timeouts, parameters', () => {
  assert.match(mapPveError(401, 'authentication failure').message, /PVE_TOKEN/);
  assert.match(mapPveError(403, 'Permission check failed').message, /VM\.GuestAgent|VM\.Monitor/);
  const a = mapPveError(500, 'Agent error: Command guest-exec has been disabled');
  assert.ok(a instanceof QgaRemoteError && a.errorClass === 'CommandNotFound');
  const q = mapPveError(500, "VM 100 qmp command 'guest-ping' failed - got timeout");
  assert.ok(q instanceof QgaTimeoutError);
  const p = mapPveError(400, 'Parameter verification failed.', { content: 'value may only be 61440 characters long' });
  assert.ok(p instanceof QgaRemoteError);
  assert.match(p.message, /content: value may only be 61440/);
  assert.ok(mapPveError(501, "Method 'GET /x' not implemented") instanceof UnsupportedError);
  assert.ok(mapPveError(500, 'QEMU guest agent is not running') instanceof AgentUnreachableError);
});

test('domain globs: *, ?, [..] and [!..], everything else literal', () => {
  assert.ok(globToRegExp('k8s-*').test('k8s-node-1'));
  assert.ok(!globToRegExp('k8s-*').test('xk8s-node'));
  assert.ok(globToRegExp('web?').test('web1') && !globToRegExp('web?').test('web10'));
  assert.ok(globToRegExp('n[12]').test('n2') && !globToRegExp('n[!12]').test('n1'));
  assert.ok(globToRegExp('a.b+c').test('a.b+c') && !globToRegExp('a.b').test('axb'));
});
