// System Use Sharing Protocol (SUSP 1.10) and Rock Ridge (RRIP 1.09) entries, each a small byte string
// placed in a directory record's system use area. RRIP 1.09 ("RRIP_1991A") is what mkisofs and xorriso
// write by default and what every Linux kernel reads; its PX entry has no inode number (36 bytes).
import { putRecordDate, putU32Both } from './fields.js';

/** RRIP 1.09 identifies itself with this extension id in the ER entry (RRIP 4.3). */
export const RRIP_ID = 'RRIP_1991A';
// RRIP 1.09 section 4.3 prescribes these descriptor and source texts for its ER entry.
const RRIP_DES = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
const RRIP_SRC =
  'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';

/** RRIP 1.09's RR entry flags: which other RRIP entries the record carries. */
export const RR_PX = 0x01;
export const RR_NM = 0x08;
export const RR_TF = 0x80;

/** TF flags (RRIP 4.1.6): modify, access and attribute-change times, short (7-byte) form. */
const TF_MODIFY = 0x02;
const TF_ACCESS = 0x04;
const TF_ATTRIBUTES = 0x08;

function header(sig: string, length: number): Buffer {
  if (length > 255) throw new RangeError(`${sig} entry of ${length} bytes exceeds 255`);
  const b = Buffer.alloc(length);
  b.write(sig, 0, 2, 'latin1');
  b[2] = length;
  b[3] = 1; // entry version
  return b;
}

/** SUSP 5.3 SP: first entry of the root's "." record; tells readers SUSP is in use and skips 0 bytes. */
export function sp(): Buffer {
  const b = header('SP', 7);
  b[4] = 0xbe;
  b[5] = 0xef;
  b[6] = 0; // LEN_SKP
  return b;
}

/** RRIP 1.09 RR: the flags of the RRIP entries present in this record. */
export function rr(flags: number): Buffer {
  const b = header('RR', 5);
  b[4] = flags;
  return b;
}

/** SUSP 5.1 CE: the rest of this record's entries are in a continuation area at block/offset/length. */
export function ce(block: number, offset: number, length: number): Buffer {
  const b = header('CE', 28);
  putU32Both(b, 4, block);
  putU32Both(b, 12, offset);
  putU32Both(b, 20, length);
  return b;
}

/** SUSP 5.5 ER: names the extension (Rock Ridge) in use; too long for the root record, so it lives in a CE area. */
export function er(): Buffer {
  const id = Buffer.from(RRIP_ID, 'latin1');
  const des = Buffer.from(RRIP_DES, 'latin1');
  const src = Buffer.from(RRIP_SRC, 'latin1');
  const b = header('ER', 8 + id.length + des.length + src.length);
  b[4] = id.length;
  b[5] = des.length;
  b[6] = src.length;
  b[7] = 1; // EXT_VER
  Buffer.concat([id, des, src]).copy(b, 8);
  return b;
}

/** RRIP 4.1.1 PX (1.09 form): POSIX mode, link count, uid, gid, each both-endian. */
export function px(mode: number, links: number, uid: number, gid: number): Buffer {
  const b = header('PX', 36);
  putU32Both(b, 4, mode);
  putU32Both(b, 12, links);
  putU32Both(b, 20, uid);
  putU32Both(b, 28, gid);
  return b;
}

/** RRIP 4.1.4 NM: the POSIX name. Names here are at most 64 characters (Joliet's limit), so one entry holds them. */
export function nm(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  const b = header('NM', 5 + bytes.length);
  b[4] = 0; // flags: not ".", "..", nor continued
  bytes.copy(b, 5);
  return b;
}

/** RRIP 4.1.6 TF: modify, access and attribute-change times, all set to the image date. */
export function tf(date: Date): Buffer {
  const b = header('TF', 5 + 3 * 7);
  b[4] = TF_MODIFY | TF_ACCESS | TF_ATTRIBUTES;
  for (let i = 0; i < 3; i++) putRecordDate(b, 5 + i * 7, date);
  return b;
}
