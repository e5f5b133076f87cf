// guestlink completion bash: the script is valid bash and completes verbs, options, option values and
// QGA command names (run in a real bash, as the completion machinery would call it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { makeTempDir } from '../peer/harness.js';
import { runCli } from './run-cli.js';

describe('guestlink completion bash', () => {
  let script: string;
  before(async () => {
    const r = await runCli(['completion', 'bash']);
    assert.equal(r.status, 0, r.stderr);
    script = path.join(makeTempDir(), 'guestlink.bash');
    writeFileSync(script, r.stdout);
  });

  /** COMPREPLY for the words typed so far (the last one is being completed). */
  const complete = (...words: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _guestlink 2>/dev/null; printf '%s\\n' "\${COMPREPLY[@]}"`,
        script,
        'guestlink',
        ...words,
      ],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);

  test('the script parses', () => {
    execFileSync('bash', ['-n', script]);
  });
  test('verbs, options and option values', () => {
    assert.deepEqual(complete('pi'), ['ping']);
    assert.deepEqual(complete('ex'), ['exec']);
    assert.deepEqual(complete('ping', 'unix:/x', '--conc'), ['--concurrency']);
    assert.deepEqual(complete('ping', '-o', ''), ['table', 'json', 'yaml']);
    assert.deepEqual(complete('completion', ''), ['bash']);
  });
  test('QGA command names after call VM, from the command table', () => {
    assert.deepEqual(complete('call', 'unix:/x', 'guest-sync').sort(), ['guest-sync', 'guest-sync-delimited']);
  });
  test('VM address forms', () => {
    assert.deepEqual(complete('ping', 'pv'), ['pve://', 'pve-pool:']);
  });
  test('an unknown shell is a usage error', async () => {
    assert.equal((await runCli(['completion', 'tcsh'])).status, 2);
  });
});
