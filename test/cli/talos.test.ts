// guestlink talos as a user runs it: IDs offline, the canonical bytes on stdout, a schematic file from
// stdin, registration with the factory double and the asset URLs, the Terraform files, the fleet form,
// and the exit codes (2 bad input, 3 factory refused or unreachable, 5 ID mismatch).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageFactoryDouble } from '../doubles/image-factory.js';
import { runCli } from './run-cli.js';

const QGA = 'ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515';
const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-talos-cli-'));
const factory = new ImageFactoryDouble();
let url = '';
before(async () => {
  url = await factory.start();
});
after(async () => {
  await factory.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('guestlink talos schematic', () => {
  it('-o id offline; -o yaml prints exactly the hashed bytes and the ID on stderr', async () => {
    const id = await runCli(['talos', 'schematic', '--extension', 'siderolabs/qemu-guest-agent', '-o', 'id']);
    assert.deepEqual([id.status, id.stdout], [0, `${QGA}\n`]);
    const y = await runCli(['talos', 'schematic', '--extension', 'siderolabs/qemu-guest-agent']);
    assert.equal(createHash('sha256').update(y.raw).digest('hex'), QGA);
    assert.equal(y.stderr, `schematic id: ${QGA}\n`);
  });
  it('--file - reads stdin; flags add to it; unknown fields are refused with the field named (exit 2)', async () => {
    const r = await runCli(['talos', 'schematic', '-f', '-', '--kernel-arg', 'nolapic', '-o', 'id'], {
      input: '{"customization": {"extraKernelArgs": ["noapic"]}}',
    });
    assert.deepEqual([r.status, r.stdout.trim()], [0, '9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c']);
    const bad = await runCli(['talos', 'schematic', '-f', '-'], { input: 'customization:\n  extensions: [x]\n' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /line 2, customization: field extensions not found/);
  });
  it('--meta 0xa=@FILE and KEY=VALUE; keys outside 0-255 refused', async () => {
    writeFileSync(path.join(dir, 'foo'), 'foo');
    const r = await runCli(['talos', 'schematic', '--meta', `0xa=@${path.join(dir, 'foo')}`, '-o', 'id']);
    assert.equal(r.stdout.trim(), 'd308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f');
    const bad = await runCli(['talos', 'schematic', '--meta', '256=x']);
    assert.deepEqual([bad.status, /0-255 is expected/.test(bad.stderr)], [2, true]);
  });
  it('network flags embed META key 10 (the same YAML talos network prints)', async () => {
    const net = ['--address', '192.0.2.11/24', '--gateway', '192.0.2.1', '--link', 'ens18', '--hostname', 'cp1'];
    const meta = await runCli(['talos', 'network', ...net]);
    const s = await runCli(['talos', 'schematic', '--extension', 'siderolabs/qemu-guest-agent', ...net, '-o', 'json']);
    const j = JSON.parse(s.stdout) as { schematic: string };
    assert.ok(
      j.schematic.includes(
        `        - key: 10\n          value: |\n${meta.stdout
          .trimEnd()
          .split('\n')
          .map((l) => `            ${l}`.trimEnd())
          .join('\n')}\n`,
      ),
      j.schematic,
    );
  });
  it('--factory registers, checks the ID and prints the asset URLs; --output-dir writes the Terraform files', async () => {
    factory.mode = 'normal';
    const out = path.join(dir, 'tf');
    const r = await runCli([
      'talos',
      'schematic',
      '--extension',
      'siderolabs/qemu-guest-agent',
      '--factory',
      url,
      '--talos-version',
      '1.11.5',
      '--output-dir',
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^id: ${QGA} \\(registered\\)\\n`));
    assert.match(r.stdout, new RegExp(`\\niso: ${url}/image/${QGA}/v1.11.5/metal-amd64.iso\\n`));
    assert.match(r.stdout, new RegExp(`\\ninstaller: 127.0.0.1:\\d+/metal-installer/${QGA}:v1.11.5\\n`));
    assert.ok(factory.schematics.has(QGA));
    assert.equal(readFileSync(path.join(out, 'schematic.id'), 'utf8'), `${QGA}\n`);
    assert.equal(
      createHash('sha256')
        .update(readFileSync(path.join(out, 'schematic.yaml')))
        .digest('hex'),
      QGA,
    );
    const tf = JSON.parse(readFileSync(path.join(out, 'talos.auto.tfvars.json'), 'utf8')) as Record<string, string>;
    assert.equal(tf.talos_schematic_id, QGA);
    assert.equal(tf.talos_image_url, `${url}/image/${QGA}/v1.11.5/metal-amd64.raw.zst`);
    assert.equal(statSync(path.join(out, 'schematic.yaml')).mode & 0o777, 0o600);
    // The image URL the factory now serves.
    const res = await fetch(tf.talos_iso_url as string, { method: 'HEAD' });
    assert.equal(res.status, 200);
  });
  it('an ID mismatch is exit 5 and shows both; a refused schematic is exit 3', async () => {
    factory.mode = 'owner';
    const m = await runCli(['talos', 'schematic', '--factory', url]);
    assert.equal(m.status, 5);
    assert.match(
      m.stderr,
      /answered schematic ID [0-9a-f]{64}, but this schematic's ID is 376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/,
    );
    factory.mode = 'fail';
    const f = await runCli(['talos', 'schematic', '--factory', url]);
    assert.deepEqual([f.status, /HTTP 500/.test(f.stderr)], [3, true]);
    factory.mode = 'normal';
    const v = await runCli(['talos', 'schematic', '--talos-version', 'v1.11.5']);
    assert.deepEqual([v.status, /need --factory/.test(v.stderr)], [2, true]);
  });
  it('--nodes: one schematic per node, registered, a tfvars map with the VIP endpoint', async () => {
    factory.mode = 'normal';
    const nodes = {
      cluster: { name: 'lab', vip: '192.0.2.10', gateway: '192.0.2.1', link: 'ens18' },
      nodes: ['cp1', 'cp2', 'cp3', 'w1', 'w2'].map((name, i) => ({
        name,
        address: `192.0.2.${11 + i}/24`,
        role: name.startsWith('cp') ? 'controlplane' : 'worker',
      })),
    };
    writeFileSync(path.join(dir, 'nodes.json'), JSON.stringify(nodes));
    const out = path.join(dir, 'fleet');
    const r = await runCli([
      'talos',
      'schematic',
      '--nodes',
      path.join(dir, 'nodes.json'),
      '--extension',
      'siderolabs/qemu-guest-agent',
      '--factory',
      url,
      '--talos-version',
      'v1.11.5',
      '--output-dir',
      out,
      '-o',
      'id',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const ids = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    assert.deepEqual(
      ids.map(([n]) => n),
      ['cp1', 'cp2', 'cp3', 'w1', 'w2'],
    );
    assert.equal(new Set(ids.map(([, id]) => id)).size, 5, 'each node has its own META, so its own ID');
    const tf = JSON.parse(readFileSync(path.join(out, 'talos.auto.tfvars.json'), 'utf8')) as {
      talos_cluster_endpoint: string;
      talos_nodes: Record<string, { schematic_id: string; address: string }>;
    };
    assert.equal(tf.talos_cluster_endpoint, 'https://192.0.2.10:6443');
    assert.deepEqual([tf.talos_nodes.w2?.address, tf.talos_nodes.w2?.schematic_id], ['192.0.2.15', ids[4]?.[1]]);
    assert.equal(readFileSync(path.join(out, 'cp1', 'schematic.id'), 'utf8').trim(), ids[0]?.[1]);
    for (const [, id] of ids) assert.ok(factory.schematics.has(id as string));
  });
});

describe('guestlink talos: bad option input (exit 2, the option named, what to do)', () => {
  it('a repeated scalar option, a forgotten value, an empty or huge value, an unknown option', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['talos', 'schematic', '-o', 'id', '-o', 'yaml'],
        /-o \(--output\) is given more than once \(also as -o \(--output\)\); give it once/,
      ],
      [
        ['talos', 'schematic', '--file', '--kernel-arg', 'x'],
        /option --file needs a value, and the next argument "--kernel-arg" looks like an option; .*--file=--kernel-arg/,
      ],
      [['talos', 'schematic', '--output='], /--output: "" is not one of/],
      [['talos', 'schematic', '--bogus'], /unknown option --bogus/],
      [['talos', 'network', '--link', 'ens18', '--address', '10.0.0.2/24', `--gateway=${'9'.repeat(100_000)}`], /gateway/],
      [['talos', 'schematic', `--output=${'y'.repeat(100_000)}`], /"y{80}"\.\.\. \(100000 characters\) is not one of/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      assert.equal(r.status, 2, `${args.join(' ').slice(0, 100)}: ${r.stderr.slice(0, 300)}`);
      assert.match(r.stderr, re);
      assert.ok(r.stderr.length < 1000, `the message stays short: ${r.stderr.length} characters`);
      assert.equal(r.stdout, '');
    }
  });
});
