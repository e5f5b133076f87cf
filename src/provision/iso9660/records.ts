// Directory records (ECMA-119 9.1) and path table records (9.4): the two structures that say where
// each extent is. Sizes are computed before extents are known, so the layout can be planned first.
import { putRecordDate, putU16Both, putU32Both } from './fields.js';

export const SECTOR = 2048;
/** File flags (9.1.6): bit 1 marks a directory. */
export const FLAG_DIRECTORY = 0x02;

export interface RecordSpec {
  /** The file identifier bytes: 0x00 for ".", 0x01 for "..", d-characters or UCS-2 otherwise. */
  id: Buffer;
  extent: number;
  size: number;
  flags: number;
  date: Date;
  /** System use entries (Rock Ridge), concatenated. */
  systemUse?: Buffer;
}

/** The length of a record: 33 fixed bytes, the id, a pad byte after an even-length id (9.1.12), system use, even total. */
export function recordLength(idLength: number, systemUseLength: number): number {
  const base = 33 + idLength + (idLength % 2 === 0 ? 1 : 0);
  const total = base + systemUseLength;
  return total + (total % 2);
}

/** Serialises one directory record (9.1); throws when it exceeds the one-byte length field. */
export function directoryRecord(r: RecordSpec): Buffer {
  const su = r.systemUse ?? Buffer.alloc(0);
  const length = recordLength(r.id.length, su.length);
  if (length > 255) throw new RangeError(`directory record of ${length} bytes exceeds 255`);
  const b = Buffer.alloc(length);
  b[0] = length;
  b[1] = 0; // extended attribute record length
  putU32Both(b, 2, r.extent);
  putU32Both(b, 10, r.size);
  putRecordDate(b, 18, r.date);
  b[25] = r.flags;
  b[26] = 0; // file unit size: not interleaved
  b[27] = 0; // interleave gap size
  putU16Both(b, 28, 1); // volume sequence number
  b[32] = r.id.length;
  r.id.copy(b, 33);
  su.copy(b, 33 + r.id.length + (r.id.length % 2 === 0 ? 1 : 0));
  return b;
}

/** Packs records into whole sectors; a record never spans a sector boundary (6.8.1.1), the rest of a sector is zero. */
export function packRecords(records: readonly Buffer[]): Buffer {
  const out = Buffer.alloc(sectorsForRecords(records.map((r) => r.length)) * SECTOR);
  let pos = 0;
  for (const r of records) {
    if ((pos % SECTOR) + r.length > SECTOR) pos = Math.ceil(pos / SECTOR) * SECTOR;
    r.copy(out, pos);
    pos += r.length;
  }
  return out;
}

/** How many sectors records of these lengths need under the no-spanning rule. */
export function sectorsForRecords(lengths: readonly number[]): number {
  let pos = 0;
  for (const len of lengths) {
    if ((pos % SECTOR) + len > SECTOR) pos = Math.ceil(pos / SECTOR) * SECTOR;
    pos += len;
  }
  return Math.max(1, Math.ceil(pos / SECTOR));
}

/**
 * A path table with only the root directory (9.4): id length 1, extent, parent number 1, id 0x00, one
 * pad byte. `bigEndian` selects the M table (type M, 7.3.2 numbers) over the L table (7.3.1).
 */
export function rootPathTable(rootExtent: number, bigEndian: boolean): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 1; // length of directory identifier
  b[1] = 0; // extended attribute record length
  if (bigEndian) {
    b.writeUInt32BE(rootExtent, 2);
    b.writeUInt16BE(1, 6);
  } else {
    b.writeUInt32LE(rootExtent, 2);
    b.writeUInt16LE(1, 6);
  }
  b[8] = 0; // the root's identifier
  return b;
}
