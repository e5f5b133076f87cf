// A minimal reader for the tests: walks a directory extent and its System Use entries the way a
// reader following ECMA-119 and SUSP would, checking on the way that both halves of every both-endian
// field agree, so a writer bug shows up as a failed read rather than a silently wrong value.
import { SECTOR } from './records.js';

export interface ReadRecord {
  offset: number;
  length: number;
  extent: number;
  size: number;
  flags: number;
  id: Buffer;
  /** SUSP entries by signature, in order (the CE area is not followed here). */
  entries: { sig: string; data: Buffer }[];
}

/** Reads a both-endian 32-bit field and fails when its halves differ. */
export function u32Both(buf: Buffer, offset: number): number {
  const le = buf.readUInt32LE(offset);
  const be = buf.readUInt32BE(offset + 4);
  if (le !== be) throw new Error(`both-endian mismatch at ${offset}: ${le} != ${be}`);
  return le;
}

export function u16Both(buf: Buffer, offset: number): number {
  const le = buf.readUInt16LE(offset);
  const be = buf.readUInt16BE(offset + 2);
  if (le !== be) throw new Error(`both-endian mismatch at ${offset}: ${le} != ${be}`);
  return le;
}

/** All records of a directory extent; a zero length byte skips to the next sector (records never span sectors). */
export function readDirectory(image: Buffer, extent: number, size: number): ReadRecord[] {
  const out: ReadRecord[] = [];
  const start = extent * SECTOR;
  let pos = 0;
  while (pos < size) {
    const length = image[start + pos] ?? 0;
    if (length === 0) {
      pos = (Math.floor(pos / SECTOR) + 1) * SECTOR;
      continue;
    }
    if ((pos % SECTOR) + length > SECTOR) throw new Error(`record at ${pos} spans a sector boundary`);
    const rec = image.subarray(start + pos, start + pos + length);
    const idLen = rec[32] ?? 0;
    const suStart = 33 + idLen + (idLen % 2 === 0 ? 1 : 0);
    out.push({
      offset: start + pos,
      length,
      extent: u32Both(rec, 2),
      size: u32Both(rec, 10),
      flags: rec[25] ?? 0,
      id: Buffer.from(rec.subarray(33, 33 + idLen)),
      entries: suEntries(rec.subarray(suStart)),
    });
    pos += length;
  }
  return out;
}

/** Splits a System Use area into SUSP entries (4-byte header: signature, length, version). */
export function suEntries(area: Buffer): { sig: string; data: Buffer }[] {
  const out: { sig: string; data: Buffer }[] = [];
  let p = 0;
  while (p + 4 <= area.length) {
    const len = area[p + 2] ?? 0;
    if (len < 4) break;
    out.push({ sig: area.toString('latin1', p, p + 2), data: Buffer.from(area.subarray(p, p + len)) });
    p += len;
  }
  return out;
}
