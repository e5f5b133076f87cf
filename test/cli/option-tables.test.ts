// The option tables people read are the ones the parsers use: every option of the CLI, of `talos` and
// of `cloud-init` has its row in docs/cli.md or docs/cloud-init.md (flag, and for cloud-init its
// environment variable and file key), and --help names every one. (`npm run check` also regenerates the
// tables and compares them byte for byte; this says which option is missing when they drift.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI_OPTIONS } from '../../src/cli/options.js';
import { NETWORK_VERB_OPTIONS, SCHEMATIC_OPTIONS, TALOS_SEED_OPTIONS } from '../../src/cli/talos-options.js';
import { CI_SETTINGS, ciEnvName } from '../../src/provision/cloud-init/settings.js';
import { flagOf, type SettingSpec } from '../../src/settings/index.js';
import { runCli } from './run-cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = (name: string) => readFileSync(path.join(ROOT, 'docs', name), 'utf8').split('\n');
const rowOf = (lines: readonly string[], s: SettingSpec) => lines.find((l) => l.startsWith('|') && l.includes(`\`--${flagOf(s)}\``));

it('docs/cli.md has a row for every option of the CLI and of talos', () => {
  const lines = doc('cli.md');
  for (const s of [...CLI_OPTIONS, ...SCHEMATIC_OPTIONS, ...NETWORK_VERB_OPTIONS, ...TALOS_SEED_OPTIONS] as readonly SettingSpec[])
    if (s.action === undefined) assert.ok(rowOf(lines, s), `docs/cli.md: no row for --${flagOf(s)}`);
});

it('docs/cloud-init.md lists every setting with its flag, environment variable and file key', () => {
  const lines = doc('cloud-init.md');
  for (const s of CI_SETTINGS as readonly SettingSpec[]) {
    const row = rowOf(lines, s);
    assert.ok(row, `no table row for --${flagOf(s)}`);
    assert.ok(row.includes(`\`${ciEnvName(s.key)}\``), `${s.key}: environment variable`);
    assert.ok(row.includes(`\`${s.key}\``), `${s.key}: file key`);
  }
});

it('guestlink --help names every option of the table', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.status, 0);
  for (const s of CLI_OPTIONS as readonly SettingSpec[]) assert.match(r.stdout, new RegExp(`--${flagOf(s)}\\b`), `--help: --${flagOf(s)}`);
});
