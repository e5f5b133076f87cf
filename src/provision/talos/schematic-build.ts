// Builds a schematic from command-line pieces (extensions, kernel arguments, META entries, a static
// network for META key 10), on top of a file's schematic or the empty one. Extensions given as flags are
// sorted, as the factory's UI sends them, so one set always has one ID; META entries are sorted by key.

import { clip } from '../../settings/index.js';
import { TalosInputError } from './errors.js';
import { META_NETWORK_KEY, renderPlatformNetworkConfig, type StaticNetwork } from './meta-network.js';
import { emptySchematic, type MetaValue, type Schematic } from './schematic.js';

export interface SchematicParts {
  extensions: readonly string[];
  kernelArgs: readonly string[];
  meta: readonly MetaValue[];
  /** Embedded as META key 10. */
  network?: StaticNetwork;
}

/** Parses a META key as the factory's uint8 takes it: 0-255, decimal or 0x hex. */
export function parseMetaKey(text: string): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]{1,2}$/i.test(t) ? Number.parseInt(t.slice(2), 16) : /^\d{1,3}$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 255)
    throw new TalosInputError(`--meta key ${clip(text)}: 0-255 is expected (10 or 0xa for the network configuration)`);
  return n;
}

/** One official extension name as the factory lists them (siderolabs/NAME). */
export function checkExtension(name: string): void {
  if (!/^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/.test(name))
    throw new TalosInputError(
      `--extension "${name}": an official extension name such as siderolabs/qemu-guest-agent is expected${/^[a-z0-9._-]+$/.test(name) ? ` (did you mean siderolabs/${name}?)` : ''}`,
    );
}

/** The schematic the flags describe, added to `base` (a file's schematic keeps its own order). */
export function buildSchematic(parts: SchematicParts, base: Schematic = emptySchematic()): Schematic {
  const s = structuredClone(base);
  const c = s.customization;
  const ext = [...parts.extensions].sort();
  ext.forEach(checkExtension);
  for (const e of ext) {
    if (c.systemExtensions.officialExtensions.includes(e)) throw new TalosInputError(`extension ${e} is given twice`);
    c.systemExtensions.officialExtensions.push(e);
  }
  for (const a of parts.kernelArgs) {
    if (a === '' || /\s/.test(a)) throw new TalosInputError(`--kernel-arg ${clip(a)}: one argument per flag, without spaces`);
    c.extraKernelArgs.push(a);
  }
  const meta: MetaValue[] = [...parts.meta];
  if (parts.network) meta.push({ key: META_NETWORK_KEY, value: renderPlatformNetworkConfig(parts.network) });
  for (const m of meta.sort((a, b) => a.key - b.key)) {
    if (c.meta.some((x) => x.key === m.key) || meta.filter((x) => x.key === m.key).length > 1)
      throw new TalosInputError(
        m.key === META_NETWORK_KEY && parts.network
          ? 'META key 10 is set twice: by --meta 10=... and by the network flags; keep one'
          : `META key ${m.key} is set twice`,
      );
  }
  c.meta.push(...meta);
  return s;
}
