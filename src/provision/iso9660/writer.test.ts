import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PVD } from './descriptors.js';
import { IsoInputError } from './errors.js';
import { compareLevel1, level1Identifiers } from './names.js';
import { readDirectory, u16Both, u32Both } from './read-back.test-util.js';
import { SECTOR } from './records.js';
import { buildIso } from './writer.js';

const DATE = new Date('2026-11-23T12:34:56.780Z');
const FILES = [
  { name: 'user-data', data: Buffer.from('#cloud-config\nhostname: a\n') },
  { name: 'meta-data', data: Buffer.from('instance-id: iid-a\n') },
  { name: 'network-config', data: Buffer.alloc(5000, 0x6e), mode: 0o400 },
];
const image = buildIso(FILES, { volumeId: 'cidata', date: DATE, applicationId: 'GUESTLINK TEST' });
const sector = (n: number) => image.subarray(n * SECTOR, (n + 1) * SECTOR);

describe('ISO 9660 primary volume descriptor (sector 16)', () => {
  const pvd = sector(16);
  it('has type 1, "CD001", version 1 and the volume id cidata padded with spaces', () => {
    assert.equal(pvd[PVD.type], 1);
    assert.equal(pvd.toString('latin1', PVD.id, PVD.id + 5), 'CD001');
    assert.equal(pvd[PVD.version], 1);
    assert.equal(pvd.toString('latin1', PVD.volumeId, PVD.volumeId + 32), `cidata${' '.repeat(26)}`);
    assert.equal(pvd.toString('latin1', PVD.systemId, PVD.systemId + 32).trimEnd(), 'LINUX');
    assert.equal(pvd.toString('latin1', PVD.applicationId, PVD.applicationId + 128).trimEnd(), 'GUESTLINK TEST');
  });
  it('gives sizes both-endian: volume space = image sectors, block size 2048, one volume', () => {
    assert.equal(image.length % SECTOR, 0);
    assert.equal(u32Both(pvd, PVD.volumeSpaceSize), image.length / SECTOR);
    assert.equal(u16Both(pvd, PVD.logicalBlockSize), 2048);
    assert.equal(u16Both(pvd, PVD.volumeSetSize), 1);
    assert.equal(u16Both(pvd, PVD.volumeSequenceNumber), 1);
    assert.equal(u32Both(pvd, PVD.pathTableSize), 10);
  });
  it('points at the L path table little-endian and the M path table big-endian', () => {
    assert.equal(pvd.readUInt32LE(PVD.lPathTable), 19);
    assert.equal(pvd.readUInt32BE(PVD.mPathTable), 20);
    assert.equal(pvd.readUInt32LE(PVD.optionalLPathTable), 0);
    assert.equal(pvd.readUInt32BE(PVD.optionalMPathTable), 0);
  });
  it('writes dates as YYYYMMDDHHMMSScc in UTC, expiration and effective "not specified"', () => {
    assert.equal(pvd.toString('latin1', PVD.creationDate, PVD.creationDate + 16), '2026112312345678');
    assert.equal(pvd[PVD.creationDate + 16], 0);
    assert.equal(pvd.toString('latin1', PVD.modificationDate, PVD.modificationDate + 16), '2026112312345678');
    assert.equal(pvd.toString('latin1', PVD.expirationDate, PVD.expirationDate + 16), '0'.repeat(16));
    assert.equal(pvd.toString('latin1', PVD.effectiveDate, PVD.effectiveDate + 16), '0'.repeat(16));
    assert.equal(pvd[PVD.fileStructureVersion], 1);
  });
  it('holds a 34-byte root record: directory flag, identifier 0x00, recording date', () => {
    const root = pvd.subarray(PVD.rootRecord, PVD.rootRecord + 34);
    assert.equal(root[0], 34);
    assert.equal(root[25], 0x02);
    assert.equal(root[32], 1);
    assert.equal(root[33], 0);
    assert.deepEqual([...root.subarray(18, 25)], [126, 11, 23, 12, 34, 56, 0]);
    assert.equal(u32Both(root, 2), 24);
    assert.equal(u32Both(root, 10), SECTOR);
  });
});

describe('Joliet supplementary descriptor (sector 17) and terminator (sector 18)', () => {
  const svd = sector(17);
  it('has type 2, the UCS-2 level 3 escape %/E and the volume id in UCS-2 padded with U+0020', () => {
    assert.equal(svd[0], 2);
    assert.equal(svd.toString('latin1', 1, 6), 'CD001');
    assert.equal(svd.toString('latin1', PVD.escapeSequences, PVD.escapeSequences + 3), '%/E');
    assert.equal(
      Buffer.from(svd.subarray(PVD.volumeId, PVD.volumeId + 32))
        .swap16()
        .toString('utf16le'),
      `cidata${' '.repeat(10)}`,
    );
    assert.equal(svd.readUInt32LE(PVD.lPathTable), 21);
    assert.equal(svd.readUInt32BE(PVD.mPathTable), 22);
    // The 37-byte file id fields: 18 UCS-2 spaces and one zero byte, never 0x2020 ("†").
    assert.equal(svd.readUInt16BE(PVD.copyrightFileId), 0x0020);
    assert.equal(svd[PVD.copyrightFileId + 36], 0);
  });
  it('ends the set with a terminator', () => {
    const t = sector(18);
    assert.equal(t[0], 255);
    assert.equal(t.toString('latin1', 1, 6), 'CD001');
    assert.equal(t[6], 1);
    assert.ok(t.subarray(7).every((b) => b === 0));
  });
});

describe('path tables', () => {
  it('L (sector 19) and M (sector 20) hold the root: id length 1, extent, parent 1, id 0', () => {
    const l = sector(19);
    const m = sector(20);
    const root = u32Both(sector(16), PVD.rootRecord + 2);
    assert.deepEqual([l[0], l[1], l.readUInt32LE(2), l.readUInt16LE(6), l[8]], [1, 0, root, 1, 0]);
    assert.deepEqual([m[0], m[1], m.readUInt32BE(2), m.readUInt16BE(6), m[8]], [1, 0, root, 1, 0]);
  });
  it('the Joliet path tables point at the Joliet root', () => {
    const jroot = u32Both(sector(17), PVD.rootRecord + 2);
    assert.equal(sector(21).readUInt32LE(2), jroot);
    assert.equal(sector(22).readUInt32BE(2), jroot);
    assert.notEqual(jroot, u32Both(sector(16), PVD.rootRecord + 2));
  });
});

describe('primary directory with Rock Ridge', () => {
  const root = readDirectory(image, 24, SECTOR);
  it('starts with "." carrying SP (BE EF), RR, a CE to the ER entry, PX and TF', () => {
    const dot = root[0]!;
    assert.deepEqual([...dot.id], [0]);
    assert.deepEqual(
      dot.entries.map((e) => e.sig),
      ['SP', 'RR', 'CE', 'PX', 'TF'],
    );
    const sp = dot.entries[0]!.data;
    assert.deepEqual([...sp], [0x53, 0x50, 7, 1, 0xbe, 0xef, 0]);
    const ce = dot.entries[2]!.data;
    const [block, offset, length] = [u32Both(ce, 4), u32Both(ce, 12), u32Both(ce, 20)];
    const er = image.subarray(block * SECTOR + offset, block * SECTOR + offset + length);
    assert.equal(er.toString('latin1', 0, 2), 'ER');
    assert.equal(er[2], length);
    assert.equal(er.toString('latin1', 8, 8 + (er[4] ?? 0)), 'RRIP_1991A');
    const px = dot.entries[3]!.data;
    assert.equal(u32Both(px, 4), 0o040555);
    assert.equal(u32Both(px, 12), 2);
  });
  it('lists the files sorted by level-1 name, with NM names, PX modes and extents holding the data', () => {
    const files = root.slice(2);
    assert.deepEqual(
      files.map((r) => r.id.toString('latin1')),
      ['META_DAT.;1', 'NETWORK_.;1', 'USER_DAT.;1'],
    );
    for (const r of files) {
      const nm = r.entries.find((e) => e.sig === 'NM')!.data;
      const name = nm.toString('utf8', 5);
      const input = FILES.find((f) => f.name === name);
      assert.ok(input, `NM name ${name}`);
      assert.equal(r.flags, 0);
      assert.equal(r.size, input.data.length);
      assert.deepEqual(image.subarray(r.extent * SECTOR, r.extent * SECTOR + r.size), input.data);
      const px = r.entries.find((e) => e.sig === 'PX')!.data;
      assert.equal(u32Both(px, 4), 0o100000 | (input.mode ?? 0o444));
      assert.equal(px.length, 36);
      const tf = r.entries.find((e) => e.sig === 'TF')!.data;
      assert.equal(tf[4], 0x0e);
      assert.equal(r.length % 2, 0);
    }
  });
  it('keeps file extents inside the volume and apart from each other', () => {
    const spans = root.slice(2).map((r) => [r.extent, r.extent + Math.ceil(r.size / SECTOR)] as const);
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1]);
    assert.ok(spans.at(-1)![1] <= image.length / SECTOR);
  });
});

describe('Joliet directory', () => {
  it('names files in UCS-2 big-endian, sorted, pointing at the same extents', () => {
    const svd = sector(17);
    const jroot = readDirectory(image, u32Both(svd, PVD.rootRecord + 2), u32Both(svd, PVD.rootRecord + 10));
    const names = jroot.slice(2).map((r) => Buffer.from(r.id).swap16().toString('utf16le'));
    assert.deepEqual(names, ['meta-data', 'network-config', 'user-data']);
    const primary = readDirectory(image, 24, SECTOR).slice(2);
    assert.deepEqual(
      jroot
        .slice(2)
        .map((r) => r.extent)
        .sort(),
      primary.map((r) => r.extent).sort(),
    );
    assert.ok(
      jroot.every((r) => r.entries.length === 0),
      'no Rock Ridge in the Joliet tree',
    );
  });
});

describe('layout rules', () => {
  it('fills a directory over several sectors without a record crossing a boundary', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      name: `file-number-${String(i).padStart(3, '0')}.txt`,
      data: Buffer.from(`${i}\n`),
    }));
    const img = buildIso(many, { volumeId: 'cidata', date: DATE });
    const pvd = img.subarray(16 * SECTOR);
    const size = u32Both(pvd, PVD.rootRecord + 10);
    assert.ok(size > SECTOR, 'the directory needs more than one sector');
    const records = readDirectory(img, u32Both(pvd, PVD.rootRecord + 2), size);
    assert.equal(records.length, 62);
    const ids = records.slice(2).map((r) => r.id.toString('latin1'));
    assert.equal(new Set(ids).size, 60, 'level-1 names stay unique after truncation');
    assert.deepEqual([...ids].sort(compareLevel1), ids);
  });
  it('is deterministic: the same input gives the same bytes', () => {
    assert.deepEqual(buildIso(FILES, { volumeId: 'cidata', date: DATE, applicationId: 'GUESTLINK TEST' }), image);
  });
  it('gives an empty file no sector', () => {
    const img = buildIso([{ name: 'empty', data: Buffer.alloc(0) }], { volumeId: 'cidata', date: DATE });
    const rec = readDirectory(img, 24, SECTOR)[2]!;
    assert.equal(rec.size, 0);
    assert.equal(u32Both(img.subarray(16 * SECTOR), PVD.volumeSpaceSize), img.length / SECTOR);
  });
});

describe('names and refusals', () => {
  it('maps names to 8.3 d-characters and numbers clashes', () => {
    assert.deepEqual(level1Identifiers(['user-data', 'user-datum', 'a.tar.gz', '.hidden']), [
      'USER_DAT.;1',
      'USER_DA1.;1',
      'A_TAR.GZ;1',
      '_HIDDEN.;1',
    ]);
  });
  it('refuses duplicate, empty, slash, overlong names, bad labels and impossible dates', () => {
    const opts = { volumeId: 'cidata', date: DATE };
    const d = Buffer.alloc(1);
    assert.throws(
      () =>
        buildIso(
          [
            { name: 'a', data: d },
            { name: 'a', data: d },
          ],
          opts,
        ),
      IsoInputError,
    );
    assert.throws(() => buildIso([{ name: '', data: d }], opts), IsoInputError);
    assert.throws(() => buildIso([{ name: 'a/b', data: d }], opts), /forbids/);
    assert.throws(() => buildIso([{ name: 'x'.repeat(65), data: d }], opts), /64/);
    assert.throws(() => buildIso([{ name: 'a', data: d, mode: 0o10000 }], opts), /mode/);
    assert.throws(() => buildIso([], { volumeId: 'seventeen-chars-x', date: DATE }), /volume id/);
    assert.throws(() => buildIso([], { volumeId: 'ci data', date: DATE }), /volume id/);
    assert.throws(() => buildIso([], { volumeId: 'cidata', date: new Date('1899-01-01T00:00:00Z') }), /1900-2155/);
  });
});
