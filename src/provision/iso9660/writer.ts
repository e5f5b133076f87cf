// Builds a small ISO 9660 image in memory: files in the root directory, named three ways (level 1,
// Joliet, Rock Ridge), which is all a cloud-init seed (`cidata`) needs. Written by hand because no
// maintained ISO 9660 *writer* exists on npm (see docs/cloud-init.md) and shelling out to
// genisoimage/xorriso would make the host toolkit depend on tools users may not have.
//
// Layout (2048-byte sectors): 0-15 system area (zero), 16 primary VD, 17 Joliet VD, 18 terminator,
// 19/20 L/M path tables, 21/22 Joliet L/M path tables, 23 Rock Ridge continuation area (the ER entry),
// then the primary root directory, the Joliet root directory and the file extents. Both directory
// trees point at the same file extents.
import { terminator, volumeDescriptor } from './descriptors.js';
import { IsoInputError } from './errors.js';
import { checkDate, ucs2be } from './fields.js';
import { checkName, compareJoliet, compareLevel1, level1Identifiers } from './names.js';
import { directoryRecord, FLAG_DIRECTORY, packRecords, recordLength, rootPathTable, SECTOR, sectorsForRecords } from './records.js';
import { ce, er, nm, px, RR_NM, RR_PX, RR_TF, rr, sp, tf } from './rock-ridge.js';

export interface IsoFile {
  /** The POSIX name (Rock Ridge NM) and Joliet name; the level-1 name is derived from it. */
  name: string;
  data: Uint8Array;
  /** Permission bits shown through Rock Ridge; default 0o444. */
  mode?: number;
}

export interface IsoOptions {
  /** The volume label, at most 16 characters (Joliet's limit); `cidata` for cloud-init. */
  volumeId: string;
  /** Recorded as creation/modification time of the volume and every file; fixed input, fixed bytes. */
  date: Date;
  systemId?: string;
  publisherId?: string;
  preparerId?: string;
  applicationId?: string;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
// A file extent's size is a 32-bit field; multi-extent files are not needed for seed data.
const MAX_FILE = 0xffffffff;
const FIRST_FREE = 24;

interface Planned {
  file: IsoFile;
  level1: string;
  extent: number;
}

/** Returns the image bytes; throws IsoInputError for names, sizes or labels the format cannot hold. */
export function buildIso(files: readonly IsoFile[], options: IsoOptions): Buffer {
  checkOptions(options);
  const seen = new Set<string>();
  for (const f of files) {
    checkName(f.name);
    if (seen.has(f.name)) throw new IsoInputError(`file name "${f.name}" appears twice`);
    seen.add(f.name);
    if (f.data.length > MAX_FILE) throw new IsoInputError(`file "${f.name}" is larger than 4 GiB - 1`);
    if (f.mode !== undefined && (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o7777))
      throw new IsoInputError(`file "${f.name}": mode must be permission bits (0-0o7777)`);
  }
  const { date } = options;
  const ids = level1Identifiers(files.map((f) => f.name));

  // Directory sizes do not depend on extents, so the directories are sized first, then everything is placed.
  const rootSu = rootDotSystemUse(0, 0, date);
  const primaryLengths = [
    recordLength(1, rootSu.length),
    recordLength(1, dotDotSystemUse(date).length),
    ...files.map((f, i) => recordLength(Buffer.byteLength(ids[i] as string, 'latin1'), fileSystemUse(f, date).length)),
  ];
  const jolietLengths = [recordLength(1, 0), recordLength(1, 0), ...files.map((f) => recordLength(f.name.length * 2, 0))];
  const primaryRoot = FIRST_FREE;
  const primarySectors = sectorsForRecords(primaryLengths);
  const jolietRoot = primaryRoot + primarySectors;
  const jolietSectors = sectorsForRecords(jolietLengths);
  let next = jolietRoot + jolietSectors;
  const planned: Planned[] = files.map((file, i) => {
    // An empty file owns no sector; its extent points at the next free one, as mkisofs does.
    const p = { file, level1: ids[i] as string, extent: next };
    next += Math.ceil(file.data.length / SECTOR);
    return p;
  });
  const totalSectors = next;

  const erEntry = er();
  const primaryDir = packRecords([
    directoryRecord({
      id: Buffer.from([0]),
      extent: primaryRoot,
      size: primarySectors * SECTOR,
      flags: FLAG_DIRECTORY,
      date,
      systemUse: rootDotSystemUse(23, erEntry.length, date),
    }),
    directoryRecord({
      id: Buffer.from([1]),
      extent: primaryRoot,
      size: primarySectors * SECTOR,
      flags: FLAG_DIRECTORY,
      date,
      systemUse: dotDotSystemUse(date),
    }),
    ...[...planned]
      .sort((a, b) => compareLevel1(a.level1, b.level1))
      .map((p) =>
        directoryRecord({
          id: Buffer.from(p.level1, 'latin1'),
          extent: p.extent,
          size: p.file.data.length,
          flags: 0,
          date,
          systemUse: fileSystemUse(p.file, date),
        }),
      ),
  ]);
  const jolietDir = packRecords([
    directoryRecord({ id: Buffer.from([0]), extent: jolietRoot, size: jolietSectors * SECTOR, flags: FLAG_DIRECTORY, date }),
    directoryRecord({ id: Buffer.from([1]), extent: jolietRoot, size: jolietSectors * SECTOR, flags: FLAG_DIRECTORY, date }),
    ...[...planned]
      .sort((a, b) => compareJoliet(a.file.name, b.file.name))
      .map((p) => directoryRecord({ id: ucs2be(p.file.name), extent: p.extent, size: p.file.data.length, flags: 0, date })),
  ]);

  const image = Buffer.alloc(totalSectors * SECTOR);
  const common = {
    systemId: options.systemId ?? 'LINUX',
    publisherId: options.publisherId ?? '',
    preparerId: options.preparerId ?? '',
    applicationId: options.applicationId ?? '',
    volumeSpaceSize: totalSectors,
    pathTableSize: 10,
    date,
  };
  const rootRecord = (extent: number, sectors: number) =>
    directoryRecord({ id: Buffer.from([0]), extent, size: sectors * SECTOR, flags: FLAG_DIRECTORY, date });
  volumeDescriptor({
    ...common,
    joliet: false,
    volumeId: options.volumeId,
    lPathTable: 19,
    mPathTable: 20,
    rootRecord: rootRecord(primaryRoot, primarySectors),
  }).copy(image, 16 * SECTOR);
  volumeDescriptor({
    ...common,
    joliet: true,
    volumeId: options.volumeId,
    lPathTable: 21,
    mPathTable: 22,
    rootRecord: rootRecord(jolietRoot, jolietSectors),
  }).copy(image, 17 * SECTOR);
  terminator().copy(image, 18 * SECTOR);
  rootPathTable(primaryRoot, false).copy(image, 19 * SECTOR);
  rootPathTable(primaryRoot, true).copy(image, 20 * SECTOR);
  rootPathTable(jolietRoot, false).copy(image, 21 * SECTOR);
  rootPathTable(jolietRoot, true).copy(image, 22 * SECTOR);
  erEntry.copy(image, 23 * SECTOR);
  primaryDir.copy(image, primaryRoot * SECTOR);
  jolietDir.copy(image, jolietRoot * SECTOR);
  for (const p of planned) image.set(p.file.data, p.extent * SECTOR);
  return image;
}

function checkOptions(o: IsoOptions): void {
  // Lower case is outside ECMA-119's d-characters, but cloud-init looks for the label `cidata` and
  // genisoimage/xorriso write it as given; Linux and blkid read it back unchanged.
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(o.volumeId))
    throw new IsoInputError(`volume id "${o.volumeId}": use 1-16 letters, digits, "_" or "-" (Joliet holds 16 characters)`);
  try {
    checkDate(o.date);
  } catch (err) {
    throw new IsoInputError((err as Error).message);
  }
}

/** Root ".": SP must come first (SUSP 5.3), then RR, the CE pointing at the ER entry, PX and TF. */
function rootDotSystemUse(ceBlock: number, erLength: number, date: Date): Buffer {
  return Buffer.concat([sp(), rr(RR_PX | RR_TF), ce(ceBlock, 0, erLength), px(S_IFDIR | 0o555, 2, 0, 0), tf(date)]);
}

/** The root's "..": the root is its own parent. */
function dotDotSystemUse(date: Date): Buffer {
  return Buffer.concat([rr(RR_PX | RR_TF), px(S_IFDIR | 0o555, 2, 0, 0), tf(date)]);
}

function fileSystemUse(f: IsoFile, date: Date): Buffer {
  return Buffer.concat([rr(RR_PX | RR_NM | RR_TF), nm(f.name), px(S_IFREG | (f.mode ?? 0o444), 1, 0, 0), tf(date)]);
}
