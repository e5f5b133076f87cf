// `guestlink cloud-init`: renders the NoCloud seed (user-data, meta-data, network-config) from flags,
// GUESTLINK_CI_* variables and a YAML file, and writes it as files, as the `cidata` ISO, or to stdout.
// All reading and writing happens here; src/provision only turns data into bytes.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { resolveCloudInit } from '../provision/cloud-init/config.js';
import { seedFiles, seedIso } from '../provision/cloud-init/seed.js';
import {
  CI_SETTINGS,
  type CiKey,
  type CiRaw,
  type CiSettingSpec,
  CloudInitSettingError,
  ciEnvName,
  ciFlag,
  convertCi,
  mergeCi,
  readCiEnv,
  readCiFile,
} from '../provision/cloud-init/settings.js';
import { IsoInputError } from '../provision/iso9660/errors.js';

export interface CloudInitIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
}

/** Exit codes (also in docs/cloud-init.md and --help). */
export const EXIT = { ok: 0, writeFailed: 1, usage: 2 } as const;

const SPECS = CI_SETTINGS as readonly CiSettingSpec[];
const CONFIG_ENV = 'GUESTLINK_CI_CONFIG';
// Every file the verb may write into --out-dir; ones not produced this time are removed so the
// directory always holds exactly one seed.
const SEED_NAMES = ['user-data', 'meta-data', 'network-config', 'vendor-data'];

/** Runs the verb; returns the exit code. */
export async function cloudInitVerb(argv: readonly string[], io: CloudInitIo): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: parseOptions(), strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    io.stderr.write(`guestlink cloud-init: ${(err as Error).message}\n(see guestlink cloud-init --help)\n`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout.write(usage());
    return EXIT.ok;
  }
  const outDir = values['out-dir'] as string | undefined;
  const isoPath = values.iso as string | undefined;
  if (!outDir && !isoPath && !values.print) {
    io.stderr.write('guestlink cloud-init: say where the seed goes: --out-dir DIR, --iso PATH and/or --print\n');
    return EXIT.usage;
  }

  let files: ReturnType<typeof seedFiles>;
  let iso: Buffer | undefined;
  try {
    const configPath = (values.config as string | undefined) ?? io.env[CONFIG_ENV];
    const fromFile = configPath ? readSettingsFile(configPath, io.env) : {};
    const raw = mergeCi(fromFile, readCiEnv(io.env, [CONFIG_ENV]), fromFlags(values));
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
  if (values.print) io.stdout.write(files[0]?.text ?? '');
  return EXIT.ok;
}

function parseOptions() {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    config: { type: 'string' },
    'out-dir': { type: 'string' },
    iso: { type: 'string' },
    print: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const spec of SPECS) {
    const flag = ciFlag(spec);
    if (spec.type === 'bool') {
      options[flag] = { type: 'boolean' };
      // Node 20's parseArgs has no negation, and a file or variable may have switched the setting on.
      options[`no-${flag}`] = { type: 'boolean' };
    } else {
      options[flag] = { type: 'string', ...(spec.type === 'list' ? { multiple: true } : {}) };
    }
  }
  return options;
}

function fromFlags(values: Record<string, string | boolean | string[] | undefined>): CiRaw {
  const raw: CiRaw = {};
  for (const spec of SPECS) {
    const flag = ciFlag(spec);
    if (spec.type === 'bool') {
      if (values[flag] && values[`no-${flag}`]) throw new CloudInitSettingError(`--${flag} and --no-${flag} contradict each other`);
      if (values[flag]) raw[spec.key as CiKey] = true;
      if (values[`no-${flag}`]) raw[spec.key as CiKey] = false;
    } else if (values[flag] !== undefined) {
      raw[spec.key as CiKey] = convertCi(spec, values[flag], `--${flag}`);
    }
  }
  return raw;
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
  for (const spec of SPECS) {
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
  const rows = SPECS.map((s) => {
    const flag = `--${ciFlag(s)}${s.type === 'bool' ? '' : s.type === 'list' ? ' V ...' : ' V'}`;
    const def = Array.isArray(s.default) ? '' : s.default !== undefined ? ` [${String(s.default)}]` : '';
    return `  ${flag.padEnd(38)} ${s.help}${def}\n  ${''.padEnd(38)} env ${ciEnvName(s.key)}, file key ${s.key}`;
  });
  return `Usage: guestlink cloud-init [settings] [--config FILE] (--out-dir DIR | --iso PATH | --print)...

Renders cloud-init NoCloud data (user-data, meta-data, network-config) and the cidata ISO.
  --config FILE                          YAML file of settings (keys as below) [env ${CONFIG_ENV}]
  --out-dir DIR                          write the seed files there (mode 0600; stale seed files removed)
  --iso PATH                             write the cidata ISO 9660 image (Joliet, Rock Ridge; mode 0600)
  --print                                print user-data on stdout

Settings (flags > GUESTLINK_CI_* environment > file > defaults; bool flags have --no-X too):
${rows.join('\n')}

SOURCE_DATE_EPOCH fixes the ISO's timestamps (identical settings give identical bytes).
Exit codes: 0 written, 1 an output could not be written, 2 usage error or invalid setting (nothing written).
`;
}
