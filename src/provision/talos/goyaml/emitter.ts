// A port of the part of go-yaml's emitter (go.yaml.in/yaml/v4 internal/libyaml/emitter.go, itself libyaml's)
// that yaml.Marshal uses for block documents: best indent 4, sequences indented under their key, unlimited
// line width, unicode output, '\n' breaks. The column and indentation bookkeeping is kept as go-yaml keeps
// it, because the canonical bytes (and so the Image Factory's schematic IDs) depend on every space.

/** A scalar style as the serializer hands it to the emitter (before the emitter's own checks). */
export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal';

/** The tree the emitter writes: what go-yaml's representer and desolver produce for our Go types. */
export type YNode =
  | { kind: 'scalar'; value: string; style: ScalarStyle }
  | { kind: 'seq'; items: readonly YNode[] }
  | { kind: 'map'; pairs: readonly (readonly [YNode, YNode])[] };

const BEST_INDENT = 4;

// The state go-yaml pushes before emitting a child; indentation depends on it.
type Parent = 'doc' | 'seq-item' | 'map-simple-value' | 'map-value' | 'map-key' | 'flow';

const isBreak = (c: number) => c === 0x0d || c === 0x0a || c === 0x85 || c === 0x2028 || c === 0x2029;
const isBlankOrZero = (c: number | undefined) => c === undefined || c === 0x20 || c === 0x09 || c === 0 || isBreak(c);

/** go-yaml's isPrintable, per code point (it tests UTF-8 bytes; astral characters are never printable). */
export function isPrintable(c: number): boolean {
  return c === 0x0a || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff);
}

interface Analysis {
  multiline: boolean;
  flowPlain: boolean;
  blockPlain: boolean;
  single: boolean;
  block: boolean;
}

/** yaml_emitter_analyze_scalar: which styles can carry this value. */
function analyze(value: string): Analysis {
  if (value === '') return { multiline: false, flowPlain: false, blockPlain: true, single: true, block: false };
  const cps = [...value].map((ch) => ch.codePointAt(0) as number);
  let blockInd = false;
  let flowInd = false;
  if (/^(---|\.\.\.)/.test(value)) {
    blockInd = true;
    flowInd = true;
  }
  let lineBreaks = false;
  let special = false;
  let tabs = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWs = true;
  let prevSpace = false;
  let prevBreak = false;
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i] as number;
    const next = cps[i + 1];
    const followedByWs = next === undefined || next === 0x20 || next === 0x09;
    const ch = String.fromCodePoint(c);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) {
        flowInd = true;
        blockInd = true;
      } else if (ch === '?' || ch === ':') {
        flowInd = true;
        if (followedByWs) blockInd = true;
      } else if (ch === '-' && followedByWs) {
        flowInd = true;
        blockInd = true;
      }
    } else if (',?[]{}'.includes(ch)) flowInd = true;
    else if (ch === ':') {
      flowInd = true;
      if (followedByWs) blockInd = true;
    } else if (ch === '#' && precededByWs) {
      flowInd = true;
      blockInd = true;
    }
    if (c === 0x09) tabs = true;
    else if (!isPrintable(c)) special = true;
    if (c === 0x20) {
      if (i === 0) leadingSpace = true;
      if (i === cps.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === cps.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWs = isBlankOrZero(c);
  }
  const a: Analysis = { multiline: lineBreaks, flowPlain: true, blockPlain: true, single: true, block: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) a.flowPlain = a.blockPlain = false;
  if (trailingSpace) a.block = false;
  if (breakSpace) a.flowPlain = a.blockPlain = a.single = false;
  if (spaceBreak || tabs || special) a.flowPlain = a.blockPlain = a.single = false;
  if (spaceBreak || special) a.block = false;
  if (lineBreaks) a.flowPlain = a.blockPlain = false;
  if (flowInd) a.flowPlain = false;
  if (blockInd) a.blockPlain = false;
  return a;
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/** Writes one document the way go-yaml's yaml.Marshal does (V3 defaults, unlimited width). */
export function emitDocument(root: YNode): string {
  return new GoEmitter().document(root);
}

class GoEmitter {
  private out = '';
  private column = 0;
  private indent = -1;
  private readonly indents: number[] = [];
  private whitespace = true;
  private indention = true;
  private flowLevel = 0;

  document(root: YNode): string {
    this.node(root, 'doc', false);
    // Document end (implicit): one final line break.
    this.writeIndent();
    return this.out;
  }

  private put(s: string): void {
    this.out += s;
    this.column += 1;
  }

  private putBreak(): void {
    this.out += '\n';
    this.column = 0;
    this.indention = true;
  }

  private writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
  }

  private indicator(ind: string, needWs: boolean, isWs: boolean, isIndention: boolean): void {
    if (needWs && !this.whitespace) this.put(' ');
    for (const ch of ind) this.put(ch);
    this.whitespace = isWs;
    this.indention = this.indention && isIndention;
  }

  private increaseIndent(flow: boolean, parent: Parent): void {
    this.indents.push(this.indent);
    if (this.indent < 0) this.indent = flow ? BEST_INDENT : 0;
    else if (parent === 'seq-item') this.indent += 2;
    else this.indent = BEST_INDENT * Math.floor((this.indent + BEST_INDENT) / BEST_INDENT);
  }

  private popIndent(): void {
    this.indent = this.indents.pop() as number;
  }

  private node(n: YNode, parent: Parent, simpleKey: boolean): void {
    if (n.kind === 'scalar') return this.scalar(n.value, n.style, parent, simpleKey);
    const empty = n.kind === 'seq' ? n.items.length === 0 : n.pairs.length === 0;
    if (this.flowLevel > 0 || empty) return this.flowEmpty(n.kind === 'seq' ? '[' : '{', n.kind === 'seq' ? ']' : '}', parent);
    if (n.kind === 'seq') {
      this.increaseIndent(false, parent);
      for (const item of n.items) {
        this.writeIndent();
        this.indicator('-', true, false, true);
        this.node(item, 'seq-item', false);
      }
      this.popIndent();
      return;
    }
    this.increaseIndent(false, parent);
    for (const [k, v] of n.pairs) {
      this.writeIndent();
      if (this.simpleKeyFits(k)) {
        this.node(k, 'map-simple-value', true);
        this.indicator(':', false, false, false);
      } else {
        this.indicator('?', true, false, true);
        this.node(k, 'map-value', false);
        this.writeIndent();
        this.indicator(':', true, false, true);
      }
      this.node(v, 'map-key', false);
    }
    this.popIndent();
  }

  /** Only empty collections are written in flow style (go-yaml's checkEmptySequence/Mapping). */
  private flowEmpty(open: string, close: string, parent: Parent): void {
    this.indicator(open, true, true, false);
    this.increaseIndent(true, parent);
    this.flowLevel++;
    this.flowLevel--;
    this.popIndent();
    if (this.column === 0) this.writeIndent();
    this.indicator(close, false, false, false);
  }

  private simpleKeyFits(k: YNode): boolean {
    if (k.kind !== 'scalar') return (k.kind === 'seq' ? k.items.length : k.pairs.length) === 0;
    return !analyze(k.value).multiline && utf8Length(k.value) <= 128;
  }

  private scalar(value: string, requested: ScalarStyle, parent: Parent, simpleKey: boolean): void {
    const a = analyze(value);
    let style = requested;
    if (simpleKey && a.multiline) style = 'double';
    if (style === 'plain') {
      if ((this.flowLevel > 0 && !a.flowPlain) || (this.flowLevel === 0 && !a.blockPlain)) style = 'single';
      if (value === '' && (this.flowLevel > 0 || simpleKey)) style = 'single';
    }
    if (style === 'single' && !a.single) style = 'double';
    if (style === 'literal' && (!a.block || this.flowLevel > 0 || simpleKey)) style = 'double';
    this.increaseIndent(true, parent);
    if (style === 'plain') this.plain(value);
    else if (style === 'single') this.single(value);
    else if (style === 'double') this.double(value);
    else this.literal(value);
    this.popIndent();
  }

  private plain(value: string): void {
    if (value !== '' && !this.whitespace) this.put(' ');
    for (const ch of value) this.put(ch);
    if (value !== '') this.whitespace = false;
    this.indention = false;
  }

  /** A line break other than '\n' is copied as is; go-yaml then indents the next line. */
  private rawBreak(ch: string): void {
    this.out += ch;
    this.column = 0;
    this.indention = true;
  }

  private single(value: string): void {
    this.indicator("'", true, false, false);
    let breaks = false;
    for (const ch of value) {
      const c = ch.codePointAt(0) as number;
      if (c === 0x20) {
        this.put(ch);
      } else if (isBreak(c)) {
        if (!breaks && c === 0x0a) this.putBreak();
        if (c === 0x0a) this.putBreak();
        else this.rawBreak(ch);
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (ch === "'") this.put("'");
        this.put(ch);
        this.indention = false;
        breaks = false;
      }
    }
    this.indicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private double(value: string): void {
    this.indicator('"', true, false, false);
    const bomStart = value.codePointAt(0) === 0xfeff;
    for (const ch of value) {
      const c = ch.codePointAt(0) as number;
      if (!isPrintable(c) || bomStart || isBreak(c) || ch === '"' || ch === '\\') {
        this.put('\\');
        const named = ESCAPES[c];
        if (named) this.put(named);
        else {
          const [letter, width] = c <= 0xff ? ['x', 2] : c <= 0xffff ? ['u', 4] : ['U', 8];
          this.put(letter);
          for (const d of c.toString(16).toUpperCase().padStart(width, '0')) this.put(d);
        }
      } else this.put(ch);
    }
    this.indicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private literal(value: string): void {
    this.indicator('|', true, false, false);
    const cps = [...value].map((ch) => ch.codePointAt(0) as number);
    if (cps[0] === 0x20) this.indicator(String(BEST_INDENT), false, false, false);
    const last = cps[cps.length - 1];
    let chomp = '';
    if (last === undefined || !isBreak(last)) chomp = '-';
    else if (cps.length === 1 || isBreak(cps[cps.length - 2] as number)) chomp = '+';
    if (chomp) this.indicator(chomp, false, false, false);
    this.putBreak();
    this.whitespace = true;
    let breaks = true;
    for (const ch of value) {
      const c = ch.codePointAt(0) as number;
      if (isBreak(c)) {
        if (c === 0x0a) this.putBreak();
        else this.rawBreak(ch);
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(ch);
        this.indention = false;
        breaks = false;
      }
    }
  }
}

const ESCAPES: Record<number, string> = {
  0: '0',
  7: 'a',
  8: 'b',
  9: 't',
  10: 'n',
  11: 'v',
  12: 'f',
  13: 'r',
  27: 'e',
  34: '"',
  92: '\\',
  133: 'N',
  160: '_',
  8232: 'L',
  8233: 'P',
};
