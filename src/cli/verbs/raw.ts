// Verbs that parse their own command line with option tables of their own (the cloud-init generator,
// the talos verbs): main hands them argv after the verb name, untouched. Their tables are listed here
// too, so shell completion, the --help test and docs/cli.md find every option of every verb.

import { CI_SETTINGS } from '../../provision/cloud-init/settings.js';
import type { SettingSpec } from '../../settings/index.js';
import { CI_OUTPUT_OPTIONS, cloudInitVerb } from '../cloud-init.js';
import { NETWORK_VERB_OPTIONS, SCHEMATIC_OPTIONS, TALOS_SEED_OPTIONS } from '../talos-options.js';
import { talosSeedVerb } from '../talos-seed.js';
import { talosVerb } from './talos.js';
import type { Io } from './types.js';

export interface RawVerb {
  usage: string;
  summary: string;
  run(argv: readonly string[], io: Io & { env: Readonly<Record<string, string | undefined>> }): Promise<number>;
  /**
   * The option tables it parses with, by mode: '' for the verb itself, a subcommand's name (talos
   * schematic), or a mode flag (cloud-init --talos). Completion offers the union for the verb.
   */
  tables: Readonly<Record<string, readonly SettingSpec[]>>;
  /** Subcommands, the first word after the verb (their tables are in `tables`). */
  subcommands?: readonly string[];
}

export const RAW_VERBS: Readonly<Record<string, RawVerb>> = {
  'cloud-init': {
    usage: 'cloud-init [--config FILE] [--out-dir DIR] [--iso PATH] [--print] [settings...] | cloud-init --talos ...',
    summary: 'render NoCloud user-data, meta-data, network-config and the cidata ISO (docs/cloud-init.md)',
    // --talos: a Talos nocloud seed, with its own options (src/cli/talos-seed.ts).
    run: (argv, io) => (argv.includes('--talos') ? talosSeedVerb(argv, io) : cloudInitVerb(argv, io)),
    tables: { '': [...CI_SETTINGS, ...CI_OUTPUT_OPTIONS], '--talos': TALOS_SEED_OPTIONS },
  },
  talos: {
    usage: 'talos schematic|network [...] (guestlink talos --help)',
    summary: 'Image Factory schematics with exact IDs, META key 10 static networking, asset URLs (docs/talos-images.md)',
    run: (argv, io) => talosVerb(argv, io),
    tables: { schematic: SCHEMATIC_OPTIONS, network: NETWORK_VERB_OPTIONS },
    subcommands: ['schematic', 'network'],
  },
};
