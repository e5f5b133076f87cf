import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseBackend, SERVICE_ACCOUNT_CONFIG } from './select.js';

const SOCK = '/system/run/machined/machine.sock';
const has =
  (...paths: string[]) =>
  (p: string) =>
    paths.includes(p);

test('auto: the machined socket, then the ServiceAccount config, else linux', () => {
  assert.deepEqual(chooseBackend({ nodeBackend: 'auto', talosSocket: SOCK }, has(SOCK, SERVICE_ACCOUNT_CONFIG)), {
    backend: 'talos',
    via: 'socket',
    socket: SOCK,
  });
  assert.deepEqual(chooseBackend({ nodeBackend: 'auto', talosSocket: SOCK }, has(SERVICE_ACCOUNT_CONFIG)), {
    backend: 'talos',
    via: 'talosconfig',
    file: SERVICE_ACCOUNT_CONFIG,
  });
  assert.deepEqual(chooseBackend({ nodeBackend: 'auto', talosSocket: SOCK }, has()), { backend: 'linux' });
});

test('an explicit talosconfig wins over the socket, even with auto', () => {
  assert.deepEqual(chooseBackend({ nodeBackend: 'auto', talosSocket: SOCK, talosconfig: '/etc/tc' }, has(SOCK)), {
    backend: 'talos',
    via: 'talosconfig',
    file: '/etc/tc',
  });
});

test('talos without anything present still uses the socket (calls then report it unreachable); linux is linux', () => {
  assert.deepEqual(chooseBackend({ nodeBackend: 'talos', talosSocket: '/tmp/x.sock' }, has()), {
    backend: 'talos',
    via: 'socket',
    socket: '/tmp/x.sock',
  });
  assert.deepEqual(chooseBackend({ nodeBackend: 'linux', talosSocket: SOCK, talosconfig: '/etc/tc' }, has(SOCK)), { backend: 'linux' });
});
