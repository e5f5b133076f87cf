// The audit log's redaction: driven by the table's `redact` flags, one rule per kind.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMMAND_NAMES, type CommandSpec, QGA_COMMANDS } from '../protocol/qga/commands.js';
import { memberName } from '../protocol/qga/schema.js';
import { redactArgs, redactArgv, redactEnv } from './redact.js';

describe('redaction', () => {
  test('every redact flag in the table names an argument of its command', () => {
    for (const name of COMMAND_NAMES) {
      const spec = QGA_COMMANDS[name] as CommandSpec;
      const args = new Set(Object.keys(spec.args ?? {}).map((k) => memberName(k).name));
      for (const key of Object.keys(spec.redact ?? {})) assert.ok(args.has(key), `${name}: redact names '${key}', not an argument`);
    }
  });

  test('passwords hidden, file data as its size, other arguments as sent', () => {
    assert.deepEqual(redactArgs('guest-set-user-password', { username: 'root', password: 'aHVudGVyMg==', crypted: false }), {
      username: 'root',
      password: '[redacted]',
      crypted: false,
    });
    assert.deepEqual(redactArgs('guest-file-write', { handle: 1000n, 'buf-b64': 'QUJD' }), {
      handle: '1000',
      'buf-b64': '[4 base64 chars]',
    });
    assert.deepEqual(redactArgs('guest-ssh-add-authorized-keys', { username: 'u', keys: ['ssh-ed25519 AAAA x'] }), {
      username: 'u',
      keys: ['ssh-ed25519 AAAA x'],
    });
  });

  test('env: names kept, values hidden; an entry without "=" hidden whole', () => {
    assert.deepEqual(redactEnv(['A=1', 'B==x', 'oops', 7]), ['A=[redacted]', 'B=[redacted]', '[redacted]', 7]);
  });

  test('argv: values of secret-named options, variables, headers and URL passwords hidden; the rest kept', () => {
    assert.deepEqual(
      redactArgv([
        '--password',
        'p1',
        '--user',
        'admin',
        '--api-key=k1',
        'MY_TOKEN=t1',
        '-passphrase',
        'p2',
        'Cookie: c1',
        'postgres://me:p3@db/x',
        'https://example.test/path?a=b',
        'name=value',
        '--key',
        'k2',
        '--keyboard',
        'us',
      ]),
      [
        '--password',
        '[redacted]',
        '--user',
        'admin',
        '--api-key=[redacted]',
        'MY_TOKEN=[redacted]',
        '-passphrase',
        '[redacted]',
        'Cookie: [redacted]',
        'postgres://me:[redacted]@db/x',
        'https://example.test/path?a=b',
        'name=value',
        '--key',
        '[redacted]',
        '--keyboard',
        'us',
      ],
    );
  });
});
