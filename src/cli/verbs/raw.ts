// Verbs that parse their own command line (the cloud-init generator has its own option table):
// main hands them argv after the verb name, untouched.
import { cloudInitVerb } from '../cloud-init.js';
import { talosSeedVerb } from '../talos-seed.js';
import { talosVerb } from './talos.js';
import type { Io } from './types.js';

export interface RawVerb {
  usage: string;
  summary: string;
  run(argv: readonly string[], io: Io & { env: Readonly<Record<string, string | undefined>> }): Promise<number>;
}

export const RAW_VERBS: Readonly<Record<string, RawVerb>> = {
  'cloud-init': {
    usage: 'cloud-init [--config FILE] [--out-dir DIR] [--iso PATH] [--print] [settings...] | cloud-init --talos ...',
    summary: 'render NoCloud user-data, meta-data, network-config and the cidata ISO (docs/cloud-init.md)',
    // --talos: a Talos nocloud seed, with its own options (src/cli/talos-seed.ts).
    run: (argv, io) => (argv.includes('--talos') ? talosSeedVerb(argv, io) : cloudInitVerb(argv, io)),
  },
  talos: {
    usage: 'talos schematic|network [...] (guestlink talos --help)',
    summary: 'Image Factory schematics with exact IDs, META key 10 static networking, asset URLs (docs/talos-images.md)',
    run: (argv, io) => talosVerb(argv, io),
  },
};
