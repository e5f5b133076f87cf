// Attack surface: start-up errors end up in service logs and CI output. A talosconfig or kubeconfig
// that is not valid YAML used to have its offending lines quoted into the error (a private key, a
// bearer token); now the agent says where and what kind of error, never what the file says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { AGENT_BIN, makeTempDir, testAgentArgs } from '../peer/harness.js';

const KEY = 'LS0tLS1CRUdJTiBFRDI1NTE5IFBSSVZBVEUgS0VZLS0tLS0KTUM0Q0FRQXdCUVlESzJWd0JDSUVJTm90QVJlYWxLZXk=';
const TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.bm90LWEtcmVhbC10b2tlbg.c2lnbmF0dXJl';

describe('configuration errors never quote credential files', () => {
  const dir = makeTempDir('guestlink-sec-conferr-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts the agent expecting it to refuse; returns its stderr. */
  function refuse(extra: string[]): string {
    const r = spawnSync(process.execPath, [AGENT_BIN, ...testAgentArgs(dir, 'a', extra)], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1, `the agent should refuse to start: ${r.stderr}`);
    return r.stderr;
  }

  test('a talosconfig with a bad line: located, not quoted', () => {
    const file = path.join(dir, 'talosconfig');
    writeFileSync(file, `context: a\ncontexts:\n  a:\n    endpoints: [10.0.0.1]\n    key: ${KEY}\n   crt: "${TOKEN}\n`);
    const err = refuse(['--node-backend', 'talos', '--talosconfig', file, '--talos-node', '10.0.0.1']);
    assert.match(err, /not YAML: [A-Z_]+ at line \d+, column \d+ \(the contents are not shown: the file may hold credentials\)/);
    assert.ok(!err.includes(KEY.slice(0, 12)) && !err.includes(TOKEN.slice(0, 12)), err);
  });

  test('a kubeconfig with a bad line: located, not quoted', () => {
    const file = path.join(dir, 'kubeconfig');
    writeFileSync(file, `apiVersion: v1\nusers:\n- name: u\n  user:\n    token: ${TOKEN}\n   client-key-data: ${KEY}\n`);
    const err = refuse(['--kube', 'kubeconfig', '--kubeconfig', file, '--node-name', 'n1']);
    assert.match(err, /is not valid YAML: [A-Z_]+ at line \d+, column \d+ \(the contents are not shown/);
    assert.ok(!err.includes(KEY.slice(0, 12)) && !err.includes(TOKEN.slice(0, 12)), err);
  });

  test('a config file with a malformed line: located, not quoted', () => {
    const file = path.join(dir, 'agent.conf');
    writeFileSync(file, `[guestlink]\n${TOKEN}\n`);
    const r = spawnSync(process.execPath, [AGENT_BIN, '-c', file, '-D'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^guestlink-agent: .*agent\.conf:2: expected "\[group\]" or "key=value"\n/);
    assert.ok(!r.stderr.includes(TOKEN.slice(0, 12)), r.stderr);
  });
});
