// Hostile input to the Talos provisioning code: schematic files, nodes.json and machine configs come
// from users (or from whoever wrote the file they were given). Aliases that expand without end, custom
// tags, duplicate keys, deep nesting, oversized files and merge keys are refused with a reason, within
// the documented caps (docs/security.md), and never take unbounded memory or time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { TalosInputError, type TalosLimitError } from '../../src/provision/talos/errors.js';
import { checkMachineConfig } from '../../src/provision/talos/nocloud.js';
import { parseFleet } from '../../src/provision/talos/nodes.js';
import { decodeSchematic } from '../../src/provision/talos/schematic-decode.js';
import { runCli } from '../cli/run-cli.js';

const defaults = { gateways: [], dns: [], timeServers: [], link: 'ens18' };

describe('schematic files', () => {
  it('a billion-laughs file stops at the node cap, counting each alias use', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${new Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`,
      );
    lines.push('customization:\n  extraKernelArgs: *i');
    assert.throws(
      () => decodeSchematic(lines.join('\n')),
      (e: TalosLimitError) => e.code === 'TALOS_LIMIT' && /more than 100000 YAML nodes/.test(e.message),
    );
  });
  it('an alias to a mapping that contains it is refused, not followed forever', () => {
    assert.throws(() => decodeSchematic('customization: &c\n  extraKernelArgs: [a]\n  self: *c\n'), TalosInputError);
  });
  it('custom and type tags are refused with the tag named', () => {
    assert.throws(() => decodeSchematic('customization:\n  extraKernelArgs: [!something x]'), /line 2: the tag !something is not accepted/);
    assert.throws(() => decodeSchematic('customization:\n  extraKernelArgs: [!!binary aGk=]'), /tag:yaml.org,2002:binary is not accepted/);
    assert.throws(() => decodeSchematic('!!python/object:os.system {}'), /not accepted/);
  });
  it('duplicate keys are refused, at every level, with both lines', () => {
    assert.throws(
      () => decodeSchematic('customization: {}\ncustomization: {}\n'),
      /line 2, mapping: mapping key "customization" already defined at line 1/,
    );
    assert.throws(
      () => decodeSchematic('overlay:\n  name: a\n  image: b\n  options:\n    k: 1\n    k: 2\n'),
      /mapping key "k" already defined at line 5/,
    );
  });
  it('merge keys and several documents are refused', () => {
    assert.throws(() => decodeSchematic('customization:\n  <<: {extraKernelArgs: [a]}\n'), /merge keys/);
    assert.throws(() => decodeSchematic('customization: {}\n---\nowner: root\n'), /2 YAML documents/);
  });
  it('deep nesting stops at the depth cap; an oversized file at the byte cap', () => {
    const deep = `overlay:\n  name: a\n  image: b\n  options:\n    x: ${'['.repeat(200)}${']'.repeat(200)}\n`;
    assert.throws(() => decodeSchematic(deep), /nests deeper than 64 levels/);
    assert.throws(() => decodeSchematic(`customization: {}\n#${'x'.repeat(2 << 20)}\n`), /larger than 1048576 bytes/);
  });
  it('unknown fields are refused with their name, also where a typo hides (case)', () => {
    assert.throws(() => decodeSchematic('customization:\n  ExtraKernelArgs: [a]\n'), /field ExtraKernelArgs not found/);
    assert.throws(
      () => decodeSchematic('owner: root\noverlay:\n  name: x\n  image: y\n  extra: 1\n'),
      /field extra not found in type schematic.Overlay/,
    );
  });
});

describe('nodes.json', () => {
  it('duplicate keys, unknown fields, duplicate names and addresses, a taken VIP are refused', () => {
    assert.throws(
      () => parseFleet('{"nodes": [{"name": "a", "name": "b", "address": "192.0.2.11/24", "role": "controlplane"}]}', defaults),
      /"name" is given twice/,
    );
    assert.throws(
      () => parseFleet('[{"name": "a", "address": "192.0.2.11/24", "role": "controlplane", "sshKey": "x"}]', defaults),
      /unknown field "sshKey" in nodes\[0\]/,
    );
    const two = (a: string, b: string) =>
      `[{"name": "${a}", "address": "192.0.2.11/24", "role": "controlplane"}, {"name": "${b}", "address": "192.0.2.12/24", "role": "worker"}]`;
    assert.throws(() => parseFleet(two('a', 'a'), defaults), /node name a is used twice/);
    assert.throws(
      () =>
        parseFleet(
          '[{"name": "a", "address": "192.0.2.11/24", "role": "controlplane"}, {"name": "b", "address": "192.0.2.11/25", "role": "worker"}]',
          defaults,
        ),
      /address 192.0.2.11 is given to both a and b/,
    );
    assert.throws(
      () => parseFleet(`{"cluster": {"vip": "192.0.2.12"}, "nodes": ${two('a', 'b')}}`, defaults),
      /VIP 192.0.2.12 is also the address of b/,
    );
    assert.throws(
      () => parseFleet(`{"cluster": {"vip": "198.51.100.1"}, "nodes": ${two('a', 'b')}}`, defaults),
      /outside the subnet of control plane a/,
    );
    assert.throws(() => parseFleet('[{"name": "a", "address": "192.0.2.11/24", "role": "admin"}]', defaults), /controlplane or worker/);
    assert.throws(() => parseFleet('[{"name": "../etc", "address": "192.0.2.11/24", "role": "worker"}]', defaults), /host name/);
  });
  it('more nodes than --max-nodes is refused before any work', () => {
    const many = JSON.stringify(
      Array.from({ length: 11 }, (_, i) => ({ name: `n${i}`, address: `192.0.2.${i + 1}/24`, role: 'controlplane' })),
    );
    assert.throws(() => parseFleet(many, defaults, 'nodes.json', undefined, 10), /lists 11 nodes; at most 10/);
  });
});

describe('machine configs', () => {
  it('aliases in a machine config are refused (the config holds secrets; no expansion games)', () => {
    assert.throws(
      () => checkMachineConfig('version: v1alpha1\nmachine: &m {type: worker}\ncluster: *m\n', 'mc.yaml'),
      (e: TalosInputError) => e.code === 'TALOS_INPUT' && /without YAML aliases/.test(e.message),
    );
  });
  it('duplicate keys and plain cloud-config are refused', () => {
    assert.throws(
      () => checkMachineConfig('version: v1alpha1\nversion: v1alpha1\nmachine: {}\ncluster: {}\n', 'mc.yaml'),
      /not valid YAML/,
    );
    assert.throws(() => checkMachineConfig('#cloud-config\nruncmd: [reboot]\n', 'mc.yaml'), /#cloud-config/);
  });
});

describe('through the CLI', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-talos-sec-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('--max-input-bytes is checked before the file is read; a directory or FIFO-like path is refused', async () => {
    writeFileSync(path.join(dir, 'big.yaml'), `customization: {}\n#${'x'.repeat(5000)}\n`);
    const r = await runCli(['talos', 'schematic', '-f', path.join(dir, 'big.yaml'), '--max-input-bytes', '1000']);
    assert.deepEqual([r.status, /more than 1000 \(raise --max-input-bytes/.test(r.stderr)], [2, true]);
    const d = await runCli(['talos', 'schematic', '-f', dir]);
    assert.deepEqual([d.status, /not a regular file/.test(d.stderr)], [2, true]);
  });
  it('stdin over the cap is cut off with a clear error', async () => {
    const r = await runCli(['talos', 'schematic', '-f', '-', '--max-input-bytes', '100'], {
      input: `customization: {}\n#${'x'.repeat(1000)}\n`,
    });
    assert.deepEqual([r.status, /larger than 100 bytes/.test(r.stderr)], [2, true]);
  });
});
