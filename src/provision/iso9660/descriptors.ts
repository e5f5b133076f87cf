// Volume descriptors (ECMA-119 8.4, 8.5, 8.3): the primary one, Joliet's supplementary one (same layout,
// UCS-2 text and the escape sequence that names the character set) and the set terminator.
import { putPadded, putU16Both, putU32Both, putUcs2Padded, putVolumeDate } from './fields.js';
import { SECTOR } from './records.js';

export const VD_PRIMARY = 1;
export const VD_SUPPLEMENTARY = 2;
export const VD_TERMINATOR = 255;
/** Joliet level 3 (UCS-2, all of it): escape sequence "%/E" in the escape sequences field (Joliet spec 2.2). */
export const JOLIET_ESCAPE = Buffer.from('%/E', 'latin1');

export interface VolumeDescriptorSpec {
  joliet: boolean;
  volumeId: string;
  systemId: string;
  publisherId: string;
  preparerId: string;
  applicationId: string;
  volumeSpaceSize: number;
  pathTableSize: number;
  lPathTable: number;
  mPathTable: number;
  /** The 34-byte root directory record (9.1, identifier 0x00). */
  rootRecord: Buffer;
  date: Date;
}

/** Byte offsets of 8.4 (0-based, as the standard's BP minus one), exported for the tests that read them back. */
export const PVD = {
  type: 0,
  id: 1,
  version: 6,
  systemId: 8,
  volumeId: 40,
  volumeSpaceSize: 80,
  escapeSequences: 88,
  volumeSetSize: 120,
  volumeSequenceNumber: 124,
  logicalBlockSize: 128,
  pathTableSize: 132,
  lPathTable: 140,
  optionalLPathTable: 144,
  mPathTable: 148,
  optionalMPathTable: 152,
  rootRecord: 156,
  volumeSetId: 190,
  publisherId: 318,
  preparerId: 446,
  applicationId: 574,
  copyrightFileId: 702,
  abstractFileId: 739,
  bibliographicFileId: 776,
  creationDate: 813,
  modificationDate: 830,
  expirationDate: 847,
  effectiveDate: 864,
  fileStructureVersion: 881,
} as const;

/** One 2048-byte primary (joliet=false) or Joliet supplementary (joliet=true) volume descriptor. */
export function volumeDescriptor(s: VolumeDescriptorSpec): Buffer {
  const b = Buffer.alloc(SECTOR);
  const text = s.joliet ? putUcs2Padded : putPadded;
  b[PVD.type] = s.joliet ? VD_SUPPLEMENTARY : VD_PRIMARY;
  b.write('CD001', PVD.id, 'latin1');
  b[PVD.version] = 1;
  text(b, PVD.systemId, 32, s.systemId);
  text(b, PVD.volumeId, 32, s.volumeId);
  putU32Both(b, PVD.volumeSpaceSize, s.volumeSpaceSize);
  if (s.joliet) JOLIET_ESCAPE.copy(b, PVD.escapeSequences);
  putU16Both(b, PVD.volumeSetSize, 1);
  putU16Both(b, PVD.volumeSequenceNumber, 1);
  putU16Both(b, PVD.logicalBlockSize, SECTOR);
  putU32Both(b, PVD.pathTableSize, s.pathTableSize);
  b.writeUInt32LE(s.lPathTable, PVD.lPathTable);
  b.writeUInt32BE(s.mPathTable, PVD.mPathTable);
  s.rootRecord.copy(b, PVD.rootRecord);
  text(b, PVD.volumeSetId, 128, '');
  text(b, PVD.publisherId, 128, s.publisherId);
  text(b, PVD.preparerId, 128, s.preparerId);
  text(b, PVD.applicationId, 128, s.applicationId);
  text(b, PVD.copyrightFileId, 37, '');
  text(b, PVD.abstractFileId, 37, '');
  text(b, PVD.bibliographicFileId, 37, '');
  putVolumeDate(b, PVD.creationDate, s.date);
  putVolumeDate(b, PVD.modificationDate, s.date);
  putVolumeDate(b, PVD.expirationDate, undefined);
  putVolumeDate(b, PVD.effectiveDate, undefined);
  b[PVD.fileStructureVersion] = 1;
  return b;
}

/** 8.3: the volume descriptor set terminator. */
export function terminator(): Buffer {
  const b = Buffer.alloc(SECTOR);
  b[0] = VD_TERMINATOR;
  b.write('CD001', 1, 'latin1');
  b[6] = 1;
  return b;
}
