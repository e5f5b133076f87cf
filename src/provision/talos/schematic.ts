// The Image Factory schematic (siderolabs/image-factory pkg/schematic): the data model, its canonical
// YAML (what the factory's yaml.Marshal writes, field order and omitempty rules included) and its ID,
// the hex SHA-256 of those bytes. Same schematic, same ID, offline.
import { createHash } from 'node:crypto';
import { emitDocument, type YNode } from './goyaml/emitter.js';
import { goBool, goFloat, goInt, goNull, goSortKeys, goString, goTime } from './goyaml/represent.js';
import type { GoTime } from './goyaml/timestamp.js';

/** A value of Go type `any` (overlay options), as go-yaml decodes it. */
export type GoAny =
  | { t: 'str'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'null' }
  | { t: 'time'; v: GoTime }
  | { t: 'seq'; items: GoAny[] }
  | { t: 'map'; entries: Map<string, GoAny> };

export type Bootloader = 'none' | 'dual-boot' | 'sd-boot' | 'grub';
export const BOOTLOADERS: readonly Bootloader[] = ['none', 'dual-boot', 'sd-boot', 'grub'];

/** One META entry: key 0-255 (10 is the metal platform's network configuration). */
export interface MetaValue {
  key: number;
  value: string;
}

/** The schematic, with Go's zero values where a field is absent. */
export interface Schematic {
  owner: string;
  overlay: { image: string; name: string; options: Map<string, GoAny> };
  customization: {
    embeddedMachineConfiguration: string;
    extraKernelArgs: string[];
    meta: MetaValue[];
    systemExtensions: { officialExtensions: string[] };
    bootloader: Bootloader;
    secureboot: { enrollKeys: string; includeWellKnownCertificates: boolean };
    diskImage: { sectorSize: bigint };
  };
}

/** The zero schematic (`customization: {}`, the factory's default ID). */
export function emptySchematic(): Schematic {
  return {
    owner: '',
    overlay: { image: '', name: '', options: new Map() },
    customization: {
      embeddedMachineConfiguration: '',
      extraKernelArgs: [],
      meta: [],
      systemExtensions: { officialExtensions: [] },
      bootloader: 'none',
      secureboot: { enrollKeys: '', includeWellKnownCertificates: false },
      diskImage: { sectorSize: 0n },
    },
  };
}

type Field = readonly [string, YNode | undefined];

/** A struct's fields in declaration order; undefined = omitted by omitempty. */
function struct(fields: readonly Field[]): YNode {
  return { kind: 'map', pairs: fields.filter((f): f is readonly [string, YNode] => f[1] !== undefined).map(([k, v]) => [goString(k), v]) };
}

const str = (s: string, omitEmpty: boolean) => (omitEmpty && s === '' ? undefined : goString(s));
const strings = (a: readonly string[]) => (a.length === 0 ? undefined : ({ kind: 'seq', items: a.map(goString) } as YNode));

/** Represents a Go `any` value. */
export function anyNode(v: GoAny): YNode {
  switch (v.t) {
    case 'str':
      return goString(v.v);
    case 'int':
      return goInt(v.v);
    case 'float':
      return goFloat(v.v);
    case 'bool':
      return goBool(v.v);
    case 'null':
      return goNull();
    case 'time':
      return goTime(v.v);
    case 'seq':
      return { kind: 'seq', items: v.items.map(anyNode) };
    case 'map':
      return { kind: 'map', pairs: goSortKeys([...v.entries.keys()]).map((k) => [goString(k), anyNode(v.entries.get(k) as GoAny)]) };
  }
}

/** The node tree yaml.Marshal builds for a schematic (omitempty on every field but customization). */
export function schematicNode(s: Schematic): YNode {
  const c = s.customization;
  const overlayZero = s.overlay.image === '' && s.overlay.name === '' && s.overlay.options.size === 0;
  const ext = strings(c.systemExtensions.officialExtensions);
  const sb = c.secureboot;
  return struct([
    ['owner', str(s.owner, true)],
    [
      'overlay',
      overlayZero
        ? undefined
        : struct([
            ['image', goString(s.overlay.image)],
            ['name', goString(s.overlay.name)],
            ['options', s.overlay.options.size ? anyNode({ t: 'map', entries: s.overlay.options }) : undefined],
          ]),
    ],
    [
      'customization',
      struct([
        ['embeddedMachineConfiguration', str(c.embeddedMachineConfiguration, true)],
        ['extraKernelArgs', strings(c.extraKernelArgs)],
        [
          'meta',
          c.meta.length
            ? {
                kind: 'seq',
                items: c.meta.map((m) =>
                  struct([
                    ['key', goInt(m.key)],
                    ['value', goString(m.value)],
                  ]),
                ),
              }
            : undefined,
        ],
        ['systemExtensions', ext ? struct([['officialExtensions', ext]]) : undefined],
        ['bootloader', c.bootloader === 'none' ? undefined : goString(c.bootloader)],
        [
          'secureboot',
          sb.enrollKeys === '' && !sb.includeWellKnownCertificates
            ? undefined
            : struct([
                ['enrollKeys', str(sb.enrollKeys, true)],
                ['includeWellKnownCertificates', sb.includeWellKnownCertificates ? goBool(true) : undefined],
              ]),
        ],
        ['diskImage', c.diskImage.sectorSize === 0n ? undefined : struct([['sectorSize', goInt(c.diskImage.sectorSize)]])],
      ]),
    ],
  ]);
}

/** The canonical YAML: exactly the bytes the Image Factory hashes. */
export function canonicalYaml(s: Schematic): string {
  return emitDocument(schematicNode(s));
}

/** The schematic ID: hex SHA-256 of the canonical YAML. */
export function schematicId(canonical: string): string {
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
