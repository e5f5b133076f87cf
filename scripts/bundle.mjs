#!/usr/bin/env node
// Bundles the agent and the CLI into one ESM entry each (dist/guestlink-agent.mjs, dist/guestlink.mjs,
// lazily loaded parts in dist/chunks/) with esbuild: a few files to read instead of ~170 modules.
// The bin scripts prefer the bundles and fall back to dist/src. pino is bundled too; its worker-thread
// transports are not used (the agent writes JSON lines to fd 2), so nothing else needs shipping.
//
// `bundleSea()` (used by scripts/build-sea.mjs, or `node scripts/bundle.mjs --sea`) makes the single
// executable's code: the same split, as CommonJS files for its assets (see the comment there).
import { mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * pino without the parts the bundles never use, which it loads at import anyway: thread-stream (worker-thread
 * transports: pino.transport()), sonic-boom (pino.destination(); the agent writes through its own
 * src/agent/log-writer.ts) and, for pino/lib/tools.js, node:worker_threads, which it asks only for
 * isMainThread, to decide whether an async sonic-boom is flushed at exit. Each becomes a module whose use
 * throws a clear error (isMainThread is true: pino never runs in a worker here). Measured on Node 24 with
 * code caches (docs/benchmarks.md): loading pino and making the agent's logger took 9.2 ms of CPU and
 * +4.7 MB RSS with them, 3.0 ms and +1.7 MB without (node:worker_threads, node:assert and sonic-boom were
 * most of it); thread-stream alone made no measurable difference. Tests and anything that imports pino from
 * node_modules get the whole pino.
 */
const pinoWithoutWorkers = {
  name: 'pino-without-workers',
  setup(b) {
    const unused = (what) =>
      `module.exports = function () { throw new Error('guestlink bundles pino without ${what}: write JSON lines through src/agent/log-writer.ts'); };`;
    b.onResolve({ filter: /^thread-stream$/ }, () => ({ path: 'thread-stream', namespace: 'pino-unused' }));
    b.onResolve({ filter: /^sonic-boom$/ }, () => ({ path: 'sonic-boom', namespace: 'pino-unused' }));
    b.onResolve({ filter: /^(node:)?worker_threads$/ }, (a) =>
      /[\\/]pino[\\/]lib[\\/]tools\.js$/.test(a.importer) ? { path: 'worker_threads', namespace: 'pino-unused' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'pino-unused' }, (a) => ({
      contents:
        a.path === 'worker_threads'
          ? 'module.exports = { isMainThread: true };'
          : unused(a.path === 'sonic-boom' ? 'sonic-boom (pino.destination)' : 'thread-stream (pino.transport)'),
      loader: 'js',
    }));
  },
};

/**
 * The two ESM bundles the bin/*.js scripts load. Split: what the back ends and front ends load with
 * `await import()` (gRPC and YAML for Talos, the Kubernetes client, VMware, the Linux readers) goes to
 * chunks under dist/chunks/ that are read only when used; one 1.7 MB file cost ~40 ms of compiling
 * at every start, whatever the configuration.
 */
export async function bundleEsm() {
  const banner = "import { createRequire as __guestlinkRequire } from 'node:module'; const require = __guestlinkRequire(import.meta.url);";
  rmSync(path.join(root, 'dist', 'chunks'), { recursive: true, force: true });
  await build({
    entryPoints: {
      'guestlink-agent': path.join(root, 'dist/src/agent/main.js'),
      guestlink: path.join(root, 'dist/src/cli/main.js'),
    },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: path.join(root, 'dist'),
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: banner },
    plugins: [pinoWithoutWorkers],
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/**
 * The single executable's code (scripts/build-sea.mjs): the agent's and the CLI's entries and their shared
 * and lazily loaded chunks, one CommonJS file each, under `outdir` (agent.js, cli.js, chunks/*.js), for
 * the SEA's assets; scripts/sea/loader.cjs, the executable's main script, compiles only what a run uses.
 * esbuild splits only ESM, so the split is made as ESM from src/*.ts directly (esbuild strips the types:
 * no tsc run first) and each file is then rewritten to CommonJS (imports become require() of the chunk's
 * relative name, which the loader resolves among the assets; import() of a chunk becomes a promise of the
 * same). import.meta.url becomes __guestlinkSelfUrl, which the loader passes in: the executable's own file
 * URL, so native.ts finds the addon shipped beside the executable. Returns the files' names and size.
 */
export async function bundleSea(outdir = path.join(root, 'dist', 'sea', 'assets')) {
  const split = await build({
    entryPoints: { agent: path.join(root, 'src/agent/main.ts'), cli: path.join(root, 'src/cli/main.ts') },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    outdir: '/sea',
    write: false,
    chunkNames: 'chunks/[name]-[hash]',
    tsconfig: path.join(root, 'tsconfig.json'),
    define: { 'import.meta.url': '__guestlinkSelfUrl' },
    plugins: [pinoWithoutWorkers],
    legalComments: 'none',
    logLevel: 'warning',
  });
  rmSync(outdir, { recursive: true, force: true });
  const files = [];
  let bytes = 0;
  for (const f of split.outputFiles) {
    const name = path.posix.relative('/sea', f.path);
    const cjs = await transform(f.text, {
      format: 'cjs',
      platform: 'node',
      target: 'node24',
      supported: { 'dynamic-import': false },
      logLevel: 'warning',
    });
    // The loader decodes chunks as latin1 (a plain copy); esbuild escapes non-ASCII by default.
    const bad = /[^\x00-\x7f]/.exec(cjs.code);
    if (bad) throw new Error(`bundleSea: ${name} has a non-ASCII character at ${bad.index}; the loader reads chunks as latin1`);
    mkdirSync(path.dirname(path.join(outdir, name)), { recursive: true });
    writeFileSync(path.join(outdir, name), cjs.code);
    files.push(name);
    bytes += cjs.code.length;
  }
  return { outdir, files, bytes };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--sea')) {
    const r = await bundleSea();
    console.log(`${path.relative(root, r.outdir)}: ${r.files.length} files, ${r.bytes} bytes`);
  } else {
    await bundleEsm();
  }
}
