// ECMA-119's numeric and text field encodings (sections 7.1-7.4, 8.4.26.1, 9.1.5), written into a
// caller's buffer at an offset so each structure reads like the standard's table of byte positions.

/** 7.2.3: a 16-bit value little-endian then big-endian (4 bytes); readers on either byte order take their half. */
export function putU16Both(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt16LE(value, offset);
  buf.writeUInt16BE(value, offset + 2);
}

/** 7.3.3: a 32-bit value little-endian then big-endian (8 bytes). */
export function putU32Both(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value, offset);
  buf.writeUInt32BE(value, offset + 4);
}

/** A text field of fixed width padded with spaces (a-/d-characters fields are never NUL-padded). */
export function putPadded(buf: Buffer, offset: number, width: number, text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length > width) throw new RangeError(`"${text}" is longer than its ${width}-byte field`);
  buf.fill(0x20, offset, offset + width);
  bytes.copy(buf, offset);
}

/** Joliet's text fields: UCS-2 big-endian padded with U+0020; an odd width ends in one 0x00 byte. */
export function putUcs2Padded(buf: Buffer, offset: number, width: number, text: string): void {
  const units = ucs2be(text);
  if (units.length > width) throw new RangeError(`"${text}" is longer than its ${width}-byte field`);
  for (let i = 0; i + 1 < width; i += 2) buf.writeUInt16BE(0x0020, offset + i);
  if (width % 2 === 1) buf[offset + width - 1] = 0;
  units.copy(buf, offset);
}

/** UCS-2 big-endian bytes of a string; characters outside the BMP cannot be written (Joliet has no surrogates). */
export function ucs2be(text: string): Buffer {
  const out = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdfff) throw new RangeError(`"${text}" has a character outside UCS-2`);
    out.writeUInt16BE(unit, i * 2);
  }
  return out;
}

/**
 * 8.4.26.1: the 17-byte volume date "YYYYMMDDHHMMSScc" plus the offset from GMT in 15-minute units.
 * Written in UTC (offset 0) so the same instant gives the same bytes on every host; `undefined` is the
 * standard's "not specified" (sixteen '0' digits and offset 0).
 */
export function putVolumeDate(buf: Buffer, offset: number, date: Date | undefined): void {
  const digits =
    date === undefined
      ? '0000000000000000'
      : `${String(date.getUTCFullYear()).padStart(4, '0')}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}` +
        `${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}${two(Math.floor(date.getUTCMilliseconds() / 10))}`;
  buf.write(digits, offset, 16, 'latin1');
  buf[offset + 16] = 0;
}

/** 9.1.5: the 7-byte recording date of a directory record (years since 1900, ..., GMT offset); also RRIP TF's short form. */
export function putRecordDate(buf: Buffer, offset: number, date: Date): void {
  buf[offset] = date.getUTCFullYear() - 1900;
  buf[offset + 1] = date.getUTCMonth() + 1;
  buf[offset + 2] = date.getUTCDate();
  buf[offset + 3] = date.getUTCHours();
  buf[offset + 4] = date.getUTCMinutes();
  buf[offset + 5] = date.getUTCSeconds();
  buf[offset + 6] = 0;
}

/** The dates the format can hold: a record date's year is one byte counted from 1900. */
export function checkDate(date: Date): void {
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1900 || year > 2155) throw new RangeError('the image date must lie in the years 1900-2155');
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}
