// UTF-8 as qemu's JSON code reads and prints it (modified UTF-8: C0 80 is U+0000; noncharacters
// refused; invalid sequences grouped by mod_utf8_codepoint()'s rules in error messages).

const MIN_CODEPOINT = [0x80, 0x800, 0x10000, 0x200000, 0x4000000];

/**
 * Bytes to text for error messages, as qemu prints a C string through its JSON writer: the text
 * ends at a NUL byte, and each invalid sequence (by mod_utf8_codepoint()'s rules, which group
 * bytes differently from the WHATWG decoder) becomes one U+FFFD.
 */
export function decodeLossy(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c === 0) break;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    if (c >= 0xfe || (c & 0x40) === 0) {
      out += '\uFFFD'; // impossible byte or stray continuation byte
      i++;
      continue;
    }
    let len = 0;
    for (let mask = 0x80; c & mask; mask >>= 1) len++;
    let cp = c & ((0x80 >> len) - 1);
    let j = 1;
    for (; j < len; j++) {
      const d = b[i + j] ?? 0;
      if ((d & 0xc0) !== 0x80) break;
      cp = cp * 64 + (d & 0x3f);
    }
    i += j;
    const valid =
      j === len &&
      cp <= 0x10ffff &&
      !isNoncharacter(cp) &&
      !(cp >= 0xd800 && cp <= 0xdfff) &&
      (cp >= (MIN_CODEPOINT[len - 2] as number) || (cp === 0 && len === 2));
    out += valid ? String.fromCodePoint(cp) : '\uFFFD';
  }
  return out;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Unicode's 66 noncharacters (U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF), which qemu refuses in strings. */
export function isNoncharacter(cp: number): boolean {
  return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
}

/**
 * Decodes string bytes as qemu's mod_utf8_codepoint() does: strict UTF-8, except that the
 * overlong "\xC0\x80" means U+0000 and that noncharacters are invalid. Undefined when invalid.
 */
export function decodeModifiedUtf8(b: Uint8Array): string | undefined {
  let ascii = true;
  for (const c of b) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  // C0 80 is the only overlong form allowed: decode it apart, everything else strictly.
  let out = '';
  let from = 0;
  for (let i = 0; i + 1 < b.length; i++) {
    if (b[i] === 0xc0 && b[i + 1] === 0x80) {
      const part = strictDecode(b.subarray(from, i));
      if (part === undefined) return undefined;
      out += `${part}\u0000`;
      from = i + 2;
      i++;
    }
  }
  const rest = strictDecode(b.subarray(from));
  return rest === undefined ? undefined : out + rest;
}

export function strictDecode(b: Uint8Array): string | undefined {
  let s: string;
  try {
    s = strictUtf8.decode(b);
  } catch {
    return undefined;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0xfdd0 && c <= 0xfdef) || c === 0xfffe || c === 0xffff) return undefined;
    // Supplementary noncharacters U+1FFFE.. U+10FFFF: the trailing surrogate is DFFE or DFFF.
    if ((c === 0xdffe || c === 0xdfff) && i > 0) {
      const cp = s.codePointAt(i - 1) as number;
      if (isNoncharacter(cp)) return undefined;
    }
  }
  return s;
}
