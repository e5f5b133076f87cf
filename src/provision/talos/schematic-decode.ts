// Reads a schematic file the way the Image Factory does (yaml.NewDecoder with KnownFields: unknown
// fields refused, duplicate keys refused, scalars converted by go-yaml's rules: `key: 0xa` is 10,
// `value: 10` is the string "10", a null list item is dropped). Field order in the file never matters:
// the canonical form follows the Go struct.

import { TalosInputError } from './errors.js';
import { DEFAULT_LOAD_LIMITS, type LNode, type LoadLimits, loadYaml } from './goyaml/load.js';
import { resolvePlain } from './goyaml/resolve.js';
import { BOOTLOADERS, type Bootloader, emptySchematic, type GoAny, type MetaValue, type Schematic } from './schematic.js';

type Scalar = Extract<LNode, { kind: 'scalar' }>;

class Decoder {
  constructor(private readonly what: string) {}

  fail(n: LNode, path: string, goMessage: string, hint = ''): never {
    throw new TalosInputError(
      `${this.what} line ${n.line}, ${path || 'top level'}: ${goMessage}${hint ? ` (${hint})` : ''}`,
      n.line,
      `line ${n.line}: ${goMessage}`,
    );
  }

  /** go-yaml's view of a scalar: its tag and value after resolution. */
  resolved(n: Scalar) {
    return n.plain ? resolvePlain(n.value) : ({ tag: 'str', value: n.value } as const);
  }

  isNull(n: LNode): boolean {
    return n.kind === 'scalar' && n.plain && resolvePlain(n.value).tag === 'null';
  }

  shown(n: Scalar): string {
    return n.value.length > 10 ? `${n.value.slice(0, 7)}...` : n.value;
  }

  tagOf(n: LNode): string {
    return n.kind === 'seq' ? '!!seq' : n.kind === 'map' ? '!!map' : `!!${this.resolved(n).tag}`;
  }

  cannot(n: LNode, path: string, goType: string, hint?: string): never {
    const what = n.kind === 'scalar' ? `${this.tagOf(n)} \`${this.shown(n)}\`` : this.tagOf(n);
    return this.fail(n, path, `cannot construct ${what} into ${goType}`, hint);
  }

  /** A struct: a mapping whose keys must be known fields; null leaves the zero value. */
  struct(n: LNode, path: string, goType: string, fields: Record<string, (v: LNode, p: string) => void>): void {
    if (this.isNull(n)) return;
    if (n.kind !== 'map') return this.cannot(n, path, goType);
    this.uniqueKeys(n);
    for (const [k, v] of n.pairs) {
      if (k.kind !== 'scalar') this.fail(k, path, `cannot use a ${k.kind === 'seq' ? 'sequence' : 'mapping'} as a field name`);
      const field = Object.hasOwn(fields, k.value) ? fields[k.value] : undefined;
      if (!field)
        this.fail(
          k,
          path || 'top level',
          `field ${k.value} not found in type ${goType}`,
          `the Image Factory refuses unknown fields; known: ${Object.keys(fields).join(', ')}`,
        );
      field(v, path ? `${path}.${k.value}` : k.value);
    }
  }

  /** UniqueKeys: two keys with the same text are refused, as go-yaml's V3 defaults do. */
  uniqueKeys(n: Extract<LNode, { kind: 'map' }>): void {
    const seen = new Map<string, number>();
    for (const [k] of n.pairs) {
      if (k.kind !== 'scalar') continue;
      const first = seen.get(k.value);
      if (first !== undefined) this.fail(k, 'mapping', `mapping key "${k.value}" already defined at line ${first}`);
      seen.set(k.value, k.line);
    }
  }

  /** A Go string field: any scalar's text; a timestamp or a collection is refused, null is "". */
  string(n: LNode, path: string): string | undefined {
    if (n.kind !== 'scalar') return this.cannot(n, path, 'string');
    const r = this.resolved(n);
    if (r.tag === 'null') return undefined;
    if (r.tag === 'timestamp') return this.cannot(n, path, 'string', 'quote it to keep it as text');
    return n.value;
  }

  /** An unsigned integer field of `bits` bits. */
  uint(n: LNode, path: string, bits: 8 | 64, goType: string, hint?: string): bigint | undefined {
    if (n.kind !== 'scalar') return this.cannot(n, path, goType, hint);
    const r = this.resolved(n);
    if (r.tag === 'null') return undefined;
    const max = (1n << BigInt(bits)) - 1n;
    if (r.tag === 'int' && r.value >= 0n && r.value <= max) return r.value;
    // A float is taken when it is a whole number in range (go-yaml checks the conversion is lossless).
    if (r.tag === 'float' && r.value >= 0 && r.value <= Number(max) && Number.isInteger(r.value)) {
      const v = BigInt(r.value);
      if (v <= max) return v;
    }
    return this.cannot(n, path, goType, hint);
  }

  bool(n: LNode, path: string): boolean | undefined {
    if (n.kind !== 'scalar') return this.cannot(n, path, 'bool');
    const r = this.resolved(n);
    if (r.tag === 'null') return undefined;
    if (r.tag === 'bool') return r.value;
    // go-yaml's YAML 1.1 compatibility for typed bools: plain yes/on/no/off.
    if (r.tag === 'str' && n.plain) {
      if (/^(y|Y|yes|Yes|YES|on|On|ON)$/.test(n.value)) return true;
      if (/^(n|N|no|No|NO|off|Off|OFF)$/.test(n.value)) return false;
    }
    return this.cannot(n, path, 'bool');
  }

  /** A []T field: null is an empty list; null items are dropped, as go-yaml drops them. */
  list<T>(n: LNode, path: string, goType: string, item: (v: LNode, p: string) => T | undefined): T[] {
    if (this.isNull(n)) return [];
    if (n.kind !== 'seq') return this.cannot(n, path, goType);
    const out: T[] = [];
    n.items.forEach((v, i) => {
      if (this.isNull(v)) return;
      const x = item(v, `${path}[${i}]`);
      if (x !== undefined) out.push(x);
    });
    return out;
  }

  /** A value of Go type `any`. */
  any(n: LNode, path: string): GoAny {
    if (n.kind === 'seq') return { t: 'seq', items: n.items.map((v, i) => this.any(v, `${path}[${i}]`)) };
    if (n.kind === 'map') {
      this.uniqueKeys(n);
      const entries = new Map<string, GoAny>();
      for (const [k, v] of n.pairs) {
        // go-yaml makes a map[string]any only when every key is a string; mixed keys would change how
        // they are written back, so they are refused here instead of guessed.
        if (k.kind !== 'scalar' || this.resolved(k).tag !== 'str')
          this.fail(k, path, 'a key that is not a string', 'quote keys inside overlay options');
        entries.set(k.value, this.any(v, `${path}.${k.value}`));
      }
      return { t: 'map', entries };
    }
    const r = this.resolved(n);
    switch (r.tag) {
      case 'str':
        return { t: 'str', v: r.value };
      case 'int':
        return { t: 'int', v: r.value };
      case 'float':
        return { t: 'float', v: r.value };
      case 'bool':
        return { t: 'bool', v: r.value };
      case 'null':
        return { t: 'null' };
      case 'timestamp':
        return { t: 'time', v: r.value };
      default:
        return this.fail(n, path, 'a merge key is not accepted');
    }
  }

  /** overlay.options (map[string]any): top-level keys become strings whatever they looked like. */
  options(n: LNode, path: string): Map<string, GoAny> {
    const out = new Map<string, GoAny>();
    if (this.isNull(n)) return out;
    if (n.kind !== 'map') return this.cannot(n, path, 'map[string]interface {}');
    this.uniqueKeys(n);
    for (const [k, v] of n.pairs) {
      if (k.kind !== 'scalar') this.fail(k, path, 'cannot use a collection as a map key');
      if (this.isNull(k)) continue; // go-yaml cannot make a string of a null key and skips the entry
      const key = this.string(k, path) ?? '';
      out.set(key, this.any(v, `${path}.${key}`));
    }
    return out;
  }

  schematic(root: LNode): Schematic {
    const s = emptySchematic();
    const c = s.customization;
    this.struct(root, '', 'schematic.Schematic', {
      owner: (v, p) => {
        s.owner = this.string(v, p) ?? '';
      },
      overlay: (v, p) =>
        this.struct(v, p, 'schematic.Overlay', {
          image: (x, q) => {
            s.overlay.image = this.string(x, q) ?? '';
          },
          name: (x, q) => {
            s.overlay.name = this.string(x, q) ?? '';
          },
          options: (x, q) => {
            s.overlay.options = this.options(x, q);
          },
        }),
      customization: (v, p) =>
        this.struct(v, p, 'schematic.Customization', {
          embeddedMachineConfiguration: (x, q) => {
            c.embeddedMachineConfiguration = this.string(x, q) ?? '';
          },
          extraKernelArgs: (x, q) => {
            c.extraKernelArgs = this.list(x, q, '[]string', (i, r) => this.string(i, r));
          },
          meta: (x, q) => {
            c.meta = this.list(x, q, '[]schematic.MetaValue', (i, r) => this.meta(i, r));
          },
          systemExtensions: (x, q) =>
            this.struct(x, q, 'schematic.SystemExtensions', {
              officialExtensions: (y, r) => {
                c.systemExtensions.officialExtensions = this.list(y, r, '[]string', (i, t) => this.string(i, t));
              },
            }),
          bootloader: (x, q) => {
            c.bootloader = this.bootloader(x, q) ?? 'none';
          },
          secureboot: (x, q) =>
            this.struct(x, q, 'schematic.SecureBootCustomization', {
              enrollKeys: (y, r) => {
                c.secureboot.enrollKeys = this.string(y, r) ?? '';
              },
              includeWellKnownCertificates: (y, r) => {
                c.secureboot.includeWellKnownCertificates = this.bool(y, r) ?? false;
              },
            }),
          diskImage: (x, q) =>
            this.struct(x, q, 'schematic.DiskImageCustomization', {
              sectorSize: (y, r) => {
                c.diskImage.sectorSize = this.uint(y, r, 64, 'uint') ?? 0n;
              },
            }),
        }),
    });
    return s;
  }

  meta(n: LNode, path: string): MetaValue {
    const m: MetaValue = { key: 0, value: '' };
    this.struct(n, path, 'schematic.MetaValue', {
      key: (v, p) => {
        m.key = Number(this.uint(v, p, 8, 'uint8', 'META keys are 0-255, e.g. 10 or 0xa') ?? 0n);
      },
      value: (v, p) => {
        m.value = this.string(v, p) ?? '';
      },
    });
    return m;
  }

  /** imageropts.BootloaderKind: a TextUnmarshaler, so any scalar's text, case-insensitive. */
  bootloader(n: LNode, path: string): Bootloader | undefined {
    if (n.kind !== 'scalar') return this.cannot(n, path, 'imageropts.BootloaderKind');
    if (this.isNull(n)) return undefined;
    const b = BOOTLOADERS.find((x) => x === n.value.toLowerCase());
    if (!b) return this.fail(n, path, `${n.value} does not belong to BootloaderKind values`, `use one of ${BOOTLOADERS.join(', ')}`);
    return b;
  }
}

/** Decodes a schematic file; `what` names it in messages. Throws TalosInputError or TalosLimitError. */
export function decodeSchematic(text: string, what = 'schematic', limits: LoadLimits = DEFAULT_LOAD_LIMITS): Schematic {
  return new Decoder(what).schematic(loadYaml(text, what, limits));
}
