// `guestlink cloud-init`: renders the NoCloud seed (user-data, meta-data, network-config) from flags,
// GUESTLINK_CI_* variables and a YAML file, and writes it as files, as the `cidata` ISO, or to stdout.
// All reading and writing happens here; src/provision only turns data into bytes.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { resolveCloudInit } from '../provision/cloud-init/config.js';
import { seedFiles, seedIso } from '../provision/cloud-init/seed.js';
import {
  asCiError,
  CI_ENV_PREFIX,
  CI_SETTINGS,
  type CiKey,
  type CiRaw,
  CloudInitSettingError,
  mergeCi,
  rawOf,
  readCiEnv,
  readCiFile,
} from '../provision/cloud-init/settings.js';
import { IsoInputError } from '../provision/iso9660/errors.js';
import {
  envNameOf,
  FlagIndex,
  helpLines,
  type Layer,
  parseArgv,
  readEnv,
  resolve,
  type SettingSpec,
  type SettingsOf,
} from '../settings/index.js';
import { STRICT } from './options.js';

export interface CloudInitIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
}

/** Exit codes (also in docs/cloud-init.md and --help). */
export const EXIT = { ok: 0, writeFailed: 1, usage: 2 } as const;

/** The verb's own options (where the seed goes, the settings file), besides the settings of CI_SETTINGS. */
export const CI_OUTPUT_OPTIONS = [
  { key: 'config', type: 'string', arg: 'FILE', completeFiles: true, help: 'YAML file of settings (keys as below)' },
  {
    key: 'out-dir',
    type: 'string',
    arg: 'DIR',
    completeFiles: true,
    noEnv: true,
    help: 'write user-data, meta-data and, when configured, network-config and vendor-data there (files 0600 in a 0700 directory; seed files not produced this time are removed, so it holds one seed)',
  },
  {
    key: 'iso',
    type: 'string',
    arg: 'PATH',
    completeFiles: true,
    noEnv: true,
    help: 'write the cidata ISO 9660 image (Joliet, Rock Ridge; mode 0600)',
  },
  { key: 'print', type: 'bool', noEnv: true, help: 'print user-data on stdout' },
  { key: 'help', short: 'h', type: 'bool', action: 'help', help: 'show this help (cloud-init --talos --help: the Talos seed)' },
] as const satisfies readonly SettingSpec[];

type Outputs = SettingsOf<typeof CI_OUTPUT_OPTIONS>;

const INDEX = new FlagIndex([...CI_SETTINGS, ...CI_OUTPUT_OPTIONS]);
const SETTING_KEYS = new Set<string>(CI_SETTINGS.map((s) => s.key));
const CONFIG_ENV = envNameOf(CI_ENV_PREFIX, 'config');
// Every file the verb may write into --out-dir; ones not produced this time are removed so the
// directory always holds exactly one seed.
const SEED_NAMES = ['user-data', 'meta-data', 'network-config', 'vendor-data'];

/** Runs the verb; returns the exit code. */
export async function cloudInitVerb(argv: readonly string[], io: CloudInitIo): Promise<number> {
  let out: Outputs;
  let fromFlags: CiRaw;
  try {
    // A boolean given both ways (--kubesolo ... --no-kubesolo) is refused: which one was meant is unclear.
    const parsed = asCiError(() => parseArgv(INDEX, argv, { positionals: false, refuseContradictions: true, ...STRICT }));
    if (parsed.actions.has('help')) {
      io.stdout.write(usage());
      return EXIT.ok;
    }
    out = resolve(CI_OUTPUT_OPTIONS, parsed.values);
    fromFlags = rawOf(new Map([...parsed.values].filter(([key]) => SETTING_KEYS.has(key))));
  } catch (err) {
    if (!(err instanceof CloudInitSettingError)) throw err;
    io.stderr.write(`guestlink cloud-init: ${err.message}\n(see guestlink cloud-init --help)\n`);
    return EXIT.usage;
  }
  const outDir = out.outDir;
  const isoPath = out.iso;
  if (!outDir && !isoPath && !out.print) {
    io.stderr.write('guestlink cloud-init: say where the seed goes: --out-dir DIR, --iso PATH and/or --print\n');
    return EXIT.usage;
  }

  let files: ReturnType<typeof seedFiles>;
  let iso: Buffer | undefined;
  try {
    const configEnv: Layer = asCiError(() => readEnv(CI_OUTPUT_OPTIONS, io.env, { prefix: CI_ENV_PREFIX }));
    const configPath = out.config ?? (configEnv.get('config') as string | undefined);
    const fromFile = configPath ? readSettingsFile(configPath, io.env) : {};
    const raw = mergeCi(fromFile, readCiEnv(io.env, [CONFIG_ENV]), fromFlags);
    const config = resolveCloudInit(raw, (p) => readFileSync(expandHome(p, io.env), 'utf8'));
    files = seedFiles(config);
    if (isoPath) iso = seedIso(files, imageDate(io.env));
  } catch (err) {
    if (err instanceof CloudInitSettingError || err instanceof IsoInputError) {
      io.stderr.write(`guestlink cloud-init: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }

  try {
    if (outDir) {
      try {
        mkdirSync(outDir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new Error(`cannot create ${outDir}: ${(err as Error).message}`);
      }
      for (const f of files) writePrivate(path.join(outDir, f.name), f.text);
      const written = new Set<string>(files.map((f) => f.name));
      for (const name of SEED_NAMES) if (!written.has(name)) rmSync(path.join(outDir, name), { force: true });
      io.stderr.write(`guestlink cloud-init: wrote ${files.map((f) => f.name).join(', ')} to ${outDir}\n`);
    }
    if (isoPath && iso) {
      writePrivate(isoPath, iso);
      io.stderr.write(`guestlink cloud-init: wrote ${isoPath} (${iso.length} bytes, label cidata)\n`);
    }
  } catch (err) {
    io.stderr.write(`guestlink cloud-init: ${(err as Error).message}\n`);
    return EXIT.writeFailed;
  }
  if (out.print) io.stdout.write(files[0]?.text ?? '');
  return EXIT.ok;
}

/** Reads the YAML settings file; paths inside it are relative to the file, not the working directory. */
function readSettingsFile(file: string, env: Readonly<Record<string, string | undefined>>): CiRaw {
  const full = expandHome(file, env);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new CloudInitSettingError(`settings file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new CloudInitSettingError(`settings file ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const raw = readCiFile(doc, file);
  const base = path.dirname(path.resolve(full));
  for (const spec of CI_SETTINGS as readonly SettingSpec[]) {
    const v = raw[spec.key as CiKey];
    if (!spec.readsFile || v === undefined) continue;
    const rebase = (p: string) => (p.startsWith('~/') ? p : path.resolve(base, p));
    raw[spec.key as CiKey] = Array.isArray(v) ? v.map(rebase) : rebase(v as string);
  }
  return raw;
}

function expandHome(p: string, env: Readonly<Record<string, string | undefined>>): string {
  return p.startsWith('~/') && env.HOME ? path.join(env.HOME, p.slice(2)) : p;
}

/** SOURCE_DATE_EPOCH (reproducible-builds.org) fixes the image's timestamps; otherwise now. */
export function imageDate(env: Readonly<Record<string, string | undefined>>): Date {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined) return new Date();
  if (!/^\d{1,12}$/.test(epoch)) throw new CloudInitSettingError(`SOURCE_DATE_EPOCH "${epoch}": seconds since 1970 are expected`);
  return new Date(Number(epoch) * 1000);
}

/**
 * Writes a file readable by its owner only (the seed may hold a password hash), through a temporary
 * name in the same directory and a rename, so a reader never sees half a file.
 */
export function writePrivate(target: string, data: string | Buffer): void {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, target);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The directory itself is unusable: there is no temporary file to remove.
    }
    throw new Error(`cannot write ${target}: ${(err as Error).message}`);
  }
}

function usage(): string {
  const width = 38;
  return `Usage: guestlink cloud-init [settings] [--config FILE] (--out-dir DIR | --iso PATH | --print)...
       guestlink cloud-init --talos ...     (a Talos nocloud seed: guestlink cloud-init --talos --help)

Renders cloud-init NoCloud data (user-data, meta-data, network-config) and the cidata ISO.
${helpLines(CI_OUTPUT_OPTIONS, { width, envPrefix: CI_ENV_PREFIX }).join('\n')}

Settings (flags > ${CI_ENV_PREFIX}_* environment > file > defaults; bool flags have --no-X too):
${helpLines(CI_SETTINGS, { width, envPrefix: CI_ENV_PREFIX, fileKeys: true }).join('\n')}

SOURCE_DATE_EPOCH fixes the ISO's timestamps (identical settings give identical bytes).
Exit codes: 0 written, 1 an output could not be written, 2 usage error or invalid setting (nothing written).
`;
}
