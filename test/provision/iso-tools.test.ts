// The ISO writer's output read back by real tools: xorriso (libisofs) for the descriptors, the Rock
// Ridge, Joliet and plain ISO 9660 trees and the file bytes; blkid (libblkid, which udev and cloud-init's
// ds-identify use to find the label) for `cidata`; isoinfo when installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildIso } from '../../src/provision/iso9660/writer.js';

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-iso-'));
// Extracted trees keep the image's read-only modes (0444 files in a 0555 directory): make them writable to remove them.
const removeTree = (p: string) => {
  spawnSync('chmod', ['-R', 'u+w', p]);
  rmSync(p, { recursive: true, force: true });
};
after(() => removeTree(dir));

const FILES = [
  { name: 'user-data', data: Buffer.from('#cloud-config\nhostname: node1\n') },
  { name: 'meta-data', data: Buffer.from('instance-id: iid-node1\nlocal-hostname: node1\n') },
  { name: 'network-config', data: Buffer.from('version: 2\nethernets:\n  eth0:\n    dhcp4: true\n') },
  // Crosses sector boundaries and is not a multiple of 2048: the last sector's padding must not leak.
  { name: 'vendor-data', data: Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251)) },
];
const DATE = new Date('2026-11-23T12:34:56Z');
const isoPath = path.join(dir, 'seed.iso');
writeFileSync(isoPath, buildIso(FILES, { volumeId: 'cidata', date: DATE }));
const names = FILES.map((f) => f.name).sort();

describe('xorriso reads the image', { skip: have('xorriso') ? false : 'xorriso not installed' }, () => {
  it('-pvd_info: volume id cidata, system id, dates', () => {
    const r = run('xorriso', ['-indev', isoPath, '-pvd_info']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /Volume Id\s*: cidata\n/);
    assert.match(r.out, /System Id\s*: LINUX\n/);
    assert.match(r.out, /Creation Time: 2026112312345600\n/);
    assert.match(r.out, /Modif\. Time\s*: 2026112312345600\n/);
    assert.match(r.out, /Expir\. Time\s*: 0000000000000000\n/);
  });
  it('-toc: one session of exactly the image size, Rock Ridge loaded; -check_media: every block readable', () => {
    const r = run('xorriso', ['-indev', isoPath, '-toc']);
    assert.equal(r.status, 0, r.out);
    const sectors = readFileSync(isoPath).length / 2048;
    assert.match(r.out, new RegExp(`ISO session\\s*:\\s*1 ,\\s*0 ,\\s*${sectors}s , cidata`));
    assert.match(r.out, /ISO loaded\s*: Rock_Ridge/);
    const m = run('xorriso', ['-indev', isoPath, '-check_media', '--']);
    assert.match(m.out, new RegExp(`Media region :\\s*0 ,\\s*${sectors} , \\+ good`));
  });
  it('-find -exec report_lba: every file at its extent with its size (the lsdext of older xorriso)', () => {
    const r = run('xorriso', ['-indev', isoPath, '-find', '/', '-type', 'f', '-exec', 'report_lba', '--']);
    assert.equal(r.status, 0, r.out);
    for (const f of FILES) assert.match(r.out, new RegExp(`,\\s*${f.data.length} , '/${f.name}'`), f.name);
  });
  it('Rock Ridge (default): POSIX names, mode 0444, owner 0:0, the image date', () => {
    const r = run('xorriso', ['-indev', isoPath, '-lsdl', '/*']);
    assert.equal(r.status, 0, r.out);
    for (const name of names) assert.match(r.out, new RegExp(`-r--r--r-- +1 0 +0 +\\d+ Nov 23 +(12:34|2026) '/${name}'`));
  });
  it('Joliet (-read_fs norock): the same lower-case names from the UCS-2 tree', () => {
    const r = run('xorriso', ['-read_fs', 'norock', '-indev', isoPath, '-ls', '/*']);
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(
      [...r.out.matchAll(/^'\/([^']+)'$/gm)].map((m) => m[1]),
      names,
    );
  });
  it('plain ISO 9660 (-read_fs ecma119): the level-1 names', () => {
    const r = run('xorriso', ['-read_fs', 'ecma119', '-indev', isoPath, '-ls', '/*']);
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(
      [...r.out.matchAll(/^'\/([^']+)'$/gm)].map((m) => m[1]),
      ['META_DAT', 'NETWORK_', 'USER_DAT', 'VENDOR_D'],
    );
  });
  for (const tree of ['any', 'norock', 'ecma119'] as const) {
    it(`-osirrox -extract (${tree} tree): files come back byte for byte`, () => {
      const out = path.join(dir, `extract-${tree}`);
      const r = run('xorriso', ['-read_fs', tree, '-osirrox', 'on', '-indev', isoPath, '-extract', '/', out]);
      assert.equal(r.status, 0, r.out);
      for (const f of FILES) {
        const name = tree === 'ecma119' ? (f.name.replace(/-/g, '_').toUpperCase().slice(0, 8) as string) : f.name;
        assert.deepEqual(readFileSync(path.join(out, name)), f.data, `${tree}: ${name}`);
      }
      removeTree(out);
    });
  }
  it('a directory spanning several sectors lists and extracts completely', () => {
    const many = Array.from({ length: 80 }, (_, i) => ({
      name: `file-${String(i).padStart(3, '0')}-with-a-long-name`,
      data: Buffer.from(`n${i}\n`),
    }));
    const p = path.join(dir, 'many.iso');
    writeFileSync(p, buildIso(many, { volumeId: 'cidata', date: DATE }));
    const out = path.join(dir, 'many');
    for (const tree of ['any', 'norock']) {
      const r = run('xorriso', ['-read_fs', tree, '-osirrox', 'on', '-indev', p, '-extract', '/', out]);
      assert.equal(r.status, 0, r.out);
      for (const f of many) assert.deepEqual(readFileSync(path.join(out, f.name)), f.data);
      removeTree(out);
    }
  });
});

describe('blkid and isoinfo see the label', () => {
  it('blkid -p: TYPE iso9660, LABEL cidata, Joliet found', { skip: have('blkid') ? false : 'blkid not installed' }, () => {
    const r = run('blkid', ['-p', '-o', 'export', isoPath]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^TYPE=iso9660$/m);
    assert.match(r.out, /^LABEL=cidata$/m);
    assert.match(r.out, /^VERSION=Joliet\\ Extension$/m);
  });
  it('isoinfo -d: volume id cidata, Joliet and Rock Ridge', {
    skip: have('isoinfo') ? false : 'isoinfo (genisoimage) not installed',
  }, () => {
    const r = run('isoinfo', ['-d', '-i', isoPath]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /Volume id: cidata/);
    assert.match(r.out, /Joliet with UCS level 3 found/);
    assert.match(r.out, /Rock Ridge signatures version 1 found/);
  });
});
