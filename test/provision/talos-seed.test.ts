// `guestlink cloud-init --talos` end to end: the cidata ISO read back by xorriso and isoinfo (label
// cidata, exactly three files, their bytes), network-config through cloud-init's own converter, the
// fleet form writing one seed per node, and a #cloud-config file refused. Under CI a missing tool fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../cli/run-cli.js';

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
/** Skips with the reason outside CI; under CI a missing peer is a failure (BRIEF). */
function need(tool: string): string | false {
  if (have(tool)) return false;
  if (process.env.CI === 'true') assert.fail(`${tool} is not installed (scripts/apt-packages.txt)`);
  return `${tool} not installed`;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-talos-seed-'));
after(() => {
  spawnSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
});
const CP =
  'version: v1alpha1\ndebug: false\nmachine:\n  type: controlplane\n  token: abc.def\ncluster:\n  clusterName: lab\n  controlPlane:\n    endpoint: https://192.0.2.10:6443\n';
const WORKER = CP.replace('type: controlplane', 'type: worker');
writeFileSync(path.join(dir, 'controlplane.yaml'), CP);
writeFileSync(path.join(dir, 'worker.yaml'), WORKER);
const env = { SOURCE_DATE_EPOCH: '1767225600' };
const seedArgs = (iso: string) => [
  'cloud-init',
  '--talos',
  '--machine-config',
  path.join(dir, 'controlplane.yaml'),
  '--hostname',
  'cp1.lab.example',
  '--address',
  '192.0.2.11/24',
  '--address',
  '2001:db8::11/64',
  '--gateway',
  '192.0.2.1',
  '--gateway',
  '2001:db8::1',
  '--link-mac',
  '52:54:00:12:34:56',
  '--dns',
  '192.0.2.1',
  '--iso',
  iso,
  '--out-dir',
  path.join(dir, 'files'),
];

describe('the Talos seed ISO', () => {
  const iso = path.join(dir, 'seed.iso');
  it('is written, with the machine config unchanged as user-data', async () => {
    const r = await runCli(seedArgs(iso), { env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(path.join(dir, 'files', 'user-data'), 'utf8'), CP);
    assert.equal(
      readFileSync(path.join(dir, 'files', 'meta-data'), 'utf8'),
      'instance-id: iid-cp1\nlocal-hostname: cp1.lab.example\nhostname: cp1\n',
    );
    const again = path.join(dir, 'again.iso');
    assert.equal((await runCli(seedArgs(again), { env })).status, 0);
    assert.deepEqual(readFileSync(again), readFileSync(iso), 'SOURCE_DATE_EPOCH gives the same bytes');
  });
  it('xorriso: label cidata, exactly the three files, their bytes', (t) => {
    const skip = need('xorriso');
    if (skip) return t.skip(skip);
    const pvd = spawnSync('xorriso', ['-indev', iso, '-pvd_info'], { encoding: 'utf8' });
    assert.match(`${pvd.stdout}${pvd.stderr}`, /Volume Id\s*: cidata\n/);
    const ls = spawnSync('xorriso', ['-indev', iso, '-find', '/', '-type', 'f'], { encoding: 'utf8' });
    assert.deepEqual(
      ls.stdout
        .trim()
        .split('\n')
        .map((l) => l.replace(/'/g, ''))
        .sort(),
      ['/meta-data', '/network-config', '/user-data'],
    );
    const out = path.join(dir, 'extract');
    assert.equal(spawnSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', out]).status, 0);
    for (const f of ['user-data', 'meta-data', 'network-config'])
      assert.equal(readFileSync(path.join(out, f), 'utf8'), readFileSync(path.join(dir, 'files', f), 'utf8'), f);
  });
  it('isoinfo: volume id cidata and the three names', (t) => {
    const skip = need('isoinfo');
    if (skip) return t.skip(skip);
    assert.match(spawnSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' }).stdout, /Volume id: cidata/);
    const names = spawnSync('isoinfo', ['-R', '-f', '-i', iso], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
    assert.deepEqual(names, ['/meta-data', '/network-config', '/user-data']);
  });
  it('cloud-init devel net-convert reads network-config: MAC match, both addresses, both gateways, DNS, domain', (t) => {
    const skip = need('cloud-init');
    if (skip) return t.skip(skip);
    const out = path.join(dir, 'networkd');
    const r = spawnSync(
      'cloud-init',
      ['devel', 'net-convert', '-p', path.join(dir, 'files', 'network-config'), '-k', 'yaml', '-d', out, '-D', 'debian', '-O', 'networkd'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const unit = spawnSync('sh', ['-c', `cat ${out}/etc/systemd/network/*.network`], { encoding: 'utf8' }).stdout;
    for (const want of [
      'MACAddress=52:54:00:12:34:56',
      'Address=192.0.2.11/24',
      'Address=2001:db8::11/64',
      'Gateway=192.0.2.1',
      'Gateway=2001:db8::1',
      'DNS=192.0.2.1',
      'Domains=lab.example',
    ])
      assert.ok(unit.includes(want), `${want} in\n${unit}`);
  });
});

describe('cloud-init --talos refusals and the fleet form', () => {
  it('a #cloud-config file is refused under --talos, and so is a config without cluster', async () => {
    writeFileSync(path.join(dir, 'cc.yaml'), '#cloud-config\nhostname: x\n');
    const r = await runCli([
      'cloud-init',
      '--talos',
      '--machine-config',
      path.join(dir, 'cc.yaml'),
      '--hostname',
      'x',
      '--address',
      '192.0.2.11/24',
      '--link',
      'ens18',
      '--print',
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /#cloud-config file; with --talos, user-data is a Talos machine config/);
    writeFileSync(path.join(dir, 'nocluster.yaml'), 'version: v1alpha1\nmachine: {type: worker}\n');
    const r2 = await runCli([
      'cloud-init',
      '--talos',
      '--machine-config',
      path.join(dir, 'nocluster.yaml'),
      '--hostname',
      'x',
      '--address',
      '192.0.2.11/24',
      '--link',
      'ens18',
      '--print',
    ]);
    assert.match(r2.stderr, /no "cluster" section/);
  });
  it('--nodes: one ISO per node, the worker config for workers, a role mismatch refused', async () => {
    const nodes = {
      cluster: { name: 'lab', vip: '192.0.2.10', gateway: '192.0.2.1', dns: ['192.0.2.1'], link: 'ens18' },
      nodes: [
        { name: 'cp1', address: '192.0.2.11/24', role: 'controlplane' },
        { name: 'cp2', address: '192.0.2.12/24', role: 'controlplane' },
        { name: 'cp3', address: '192.0.2.13/24', role: 'controlplane' },
        { name: 'w1', address: '192.0.2.21/24', role: 'worker', mac: '52:54:00:00:00:21' },
        { name: 'w2', address: '192.0.2.22/24', role: 'worker' },
      ],
    };
    writeFileSync(path.join(dir, 'nodes.json'), JSON.stringify(nodes));
    const isoDir = path.join(dir, 'isos');
    const r = await runCli(
      [
        'cloud-init',
        '--talos',
        '--nodes',
        path.join(dir, 'nodes.json'),
        '--machine-config',
        path.join(dir, 'controlplane.yaml'),
        '--worker-config',
        path.join(dir, 'worker.yaml'),
        '--iso-dir',
        isoDir,
        '--out-dir',
        path.join(dir, 'fleet'),
      ],
      { env },
    );
    assert.equal(r.status, 0, r.stderr);
    for (const n of ['cp1', 'cp2', 'cp3', 'w1', 'w2']) assert.ok(readFileSync(path.join(isoDir, `${n}.iso`)).length > 0);
    assert.equal(readFileSync(path.join(dir, 'fleet', 'w1', 'user-data'), 'utf8'), WORKER);
    assert.match(readFileSync(path.join(dir, 'fleet', 'w1', 'network-config'), 'utf8'), /macaddress: "52:54:00:00:00:21"/);
    assert.match(readFileSync(path.join(dir, 'fleet', 'cp2', 'meta-data'), 'utf8'), /local-hostname: cp2/);
    const bad = await runCli([
      'cloud-init',
      '--talos',
      '--nodes',
      path.join(dir, 'nodes.json'),
      '--machine-config',
      path.join(dir, 'worker.yaml'),
      '--out-dir',
      path.join(dir, 'bad'),
    ]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /node cp1 has role controlplane, but .*worker.yaml is a worker config/);
  });
});
