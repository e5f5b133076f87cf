#!/usr/bin/env node
// Bundles the agent and the CLI into one ESM entry each (dist/guestlink-agent.mjs, dist/guestlink.mjs,
// lazily loaded parts in dist/chunks/) with esbuild: a few files to read instead of ~170 modules.
// The bin scripts prefer the bundles and fall back to dist/src. pino is bundled too; its worker-thread
// transports are not used (the agent writes JSON lines to fd 2), so nothing else needs shipping.
//
// `bundleSea()` (used by scripts/build-sea.mjs, or `node scripts/bundle.mjs --sea`) makes the third
// bundle: the single executable's main script, see the comment there.
import { realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

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
    legalComments: 'none',
    logLevel: 'warning',
  });
}

// The single executable's multi-call entry: one binary (Node is ~108 MB of it, so two would double
// the image) that is the agent when called as guestlink-agent (a symlink) or as `guestlink agent
// ...`, and the CLI otherwise. In a single executable process.argv is [execPath, argv0, ...args], so
// argv0 carries the name it was called by. The agent and the CLI are dynamic imports: esbuild keeps
// each behind a lazy init function, so the CLI never evaluates the agent's modules and vice versa
// (and the Kubernetes client and gRPC stay behind the back ends' own dynamic imports).
const SEA_ENTRY = `
import path from 'node:path';
async function run() {
  let args = process.argv.slice(2);
  let agent = path.basename(process.argv0) === 'guestlink-agent';
  if (!agent && args[0] === 'agent') {
    agent = true;
    args = args.slice(1);
  }
  if (agent) {
    const { main } = await import('./src/agent/main.ts');
    await main(args);
  } else {
    const { main } = await import('./src/cli/main.ts');
    process.exitCode = await main(args);
  }
}
run().catch((err) => {
  process.stderr.write(\`guestlink: \${err && err.stack ? err.stack : String(err)}\\n\`);
  process.exit(70);
});
`;

/**
 * The single executable's main script: CommonJS, because Node 24's SEA runs its main as CommonJS.
 * Bundled from src/*.ts directly (esbuild strips the types), so it needs no tsc run first.
 * import.meta does not exist in CommonJS: import.meta.url becomes the executable's own file URL,
 * which is what native.ts needs to find the addon shipped beside the executable.
 */
export async function bundleSea(outfile = path.join(root, 'dist', 'sea', 'guestlink.cjs')) {
  const result = await build({
    stdin: { contents: SEA_ENTRY, resolveDir: root, sourcefile: 'sea-entry.mjs', loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    outfile,
    tsconfig: path.join(root, 'tsconfig.json'),
    define: { 'import.meta.url': '__guestlinkSelfUrl' },
    banner: { js: "var __guestlinkSelfUrl = require('node:url').pathToFileURL(process.execPath).href;" },
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  return { outfile, inputs: Object.keys(result.metafile.inputs).length };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--sea')) {
    const r = await bundleSea();
    console.log(`${path.relative(root, r.outfile)}: ${r.inputs} inputs`);
  } else {
    await bundleEsm();
  }
}
