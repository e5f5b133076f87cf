// The single executable's main script (scripts/build-sea.mjs). It is small on purpose: the agent and the
// CLI travel as SEA assets, one CommonJS file per esbuild chunk (scripts/bundle.mjs bundleSea), and this
// loader compiles only the chunks a run needs, each with the V8 code cache that scripts/sea/train.cjs
// recorded after a real agent start on the target's own Node.
//
// Why not one main script with Node's own code cache (useCodeCache), as before: Node makes that cache by
// compiling the script without running it, so it holds the top-level function and little else (every
// module of an esbuild bundle sits in a lazily compiled function), and V8 still parsed and compiled the
// start path at every start; the whole 2.3 MB bundle (gRPC, YAML, the CLI) was also copied into the heap as
// its source string. Why not a V8 start-up snapshot (useSnapshot): measured on Node 24.21, an empty one
// costs +10 MB idle RSS and ~7 ms more to set up the environment than Node's built-in one (the builtins'
// code cache is copied out of the blob), more than it saves (docs/benchmarks.md).
//
// Chunks import one another by relative path ('./chunk-X.js' from chunks/, './chunks/chunk-X.js' from an
// entry); anything else is a Node built-in, which the SEA's own require() loads. Bytes are ASCII (the
// bundle step checks), so latin1 decoding is a plain copy.
'use strict';
const path = require('node:path');
const { Script } = require('node:vm');

/** The wrapper every chunk is compiled in: on the chunk's first line, so stack traces keep line numbers. */
const HEAD = '(function (exports, require, module, __guestlinkSelfUrl) {';
const TAIL = '\n})';

/**
 * A loader over `source(name)` (a chunk's text) and `cachedData(name)` (its code cache, or undefined);
 * `selfUrl` is what the chunks see as import.meta.url (the executable's own file URL, so the native addon
 * is found beside it); `onRejected(name)` hears of a code cache V8 refused (compiled without it then).
 * Returns load(name) and the compiled scripts (the trainer asks them for their code cache).
 */
function createLoader({ source, cachedData, selfUrl, onRejected }) {
  const modules = new Map();
  const scripts = new Map();
  function load(name) {
    const hit = modules.get(name);
    if (hit) return hit.exports;
    const mod = { exports: {} };
    modules.set(name, mod);
    const data = cachedData(name);
    const script = new Script(`${HEAD}${source(name)}${TAIL}`, { filename: `guestlink/${name}`, ...(data ? { cachedData: data } : {}) });
    if (data && script.cachedDataRejected) onRejected(name);
    scripts.set(name, script);
    const from = path.posix.dirname(name);
    const req = (spec) => (spec.startsWith('./') || spec.startsWith('../') ? load(path.posix.join(from, spec)) : require(spec));
    script.runInThisContext()(mod.exports, req, mod, selfUrl);
    return mod.exports;
  }
  return { load, scripts };
}

/** The multi-call entry: the agent when called as guestlink-agent or as `guestlink agent ...`, else the CLI. */
async function run(load) {
  // In a single executable process.argv is [execPath, argv0, ...args]: argv0 is the name it was called by.
  let args = process.argv.slice(2);
  let agent = path.basename(process.argv0) === 'guestlink-agent';
  if (!agent && args[0] === 'agent') {
    agent = true;
    args = args.slice(1);
  }
  if (agent) await load('agent.js').main(args);
  else process.exitCode = await load('cli.js').main(args);
}

module.exports = { createLoader };

const sea = require('node:sea');
if (sea.isSea()) {
  // getRawAsset is a view of the executable's mapped section: no copy until a chunk is decoded.
  const asset = (name) => {
    try {
      return Buffer.from(sea.getRawAsset(name));
    } catch {
      return undefined;
    }
  };
  let warned = false;
  const { load } = createLoader({
    source: (name) => asset(name).latin1Slice(),
    cachedData: (name) => asset(`${name}.cache`),
    selfUrl: require('node:url').pathToFileURL(process.execPath).href,
    onRejected: (name) => {
      if (warned) return;
      warned = true;
      process.stderr.write(
        `guestlink: V8 refused the code cache of ${name} (recorded by another Node, or under other V8 flags: see NODE_OPTIONS): start-up is slower; unset the V8 flags in NODE_OPTIONS or rebuild with scripts/build-sea.mjs\n`,
      );
    },
  });
  run(load).catch((err) => {
    process.stderr.write(`guestlink: ${err?.stack ? err.stack : String(err)}\n`);
    process.exit(70);
  });
}
