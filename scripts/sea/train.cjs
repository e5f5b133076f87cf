// Records the V8 code cache of the single executable's chunks after a real start (scripts/build-sea.mjs
// runs this with the target's own Node, under qemu-user for another architecture: a code cache is only
// valid for the V8 build and flags that made it).
//
//   node [the executable's V8 flags] scripts/sea/train.cjs ASSET_DIR
//
// It loads the chunks through the same loader the executable uses (scripts/sea/loader.cjs), starts the
// agent on a unix socket in a temporary directory (--power dry-run: nothing acts on this machine), sends
// what hypervisors send at every connection and poll (sync, ping, info, an exec of /bin/true and its
// status), stops it, evaluates the CLI's entry and runs `guestlink --version`, then writes NAME.cache
// beside every chunk that was loaded. A cache made after running holds every function that ran, so the
// executable's start and first requests compile nothing; a chunk that never ran here gets no cache and is
// compiled when first used. Prints one JSON line: the chunks with a cache and their sizes.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { createLoader } = require('./loader.cjs');

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node scripts/sea/train.cjs ASSET_DIR\n');
  process.exit(2);
}

/** One request per line and its one reply (every request sent here has a reply). */
function client(socket) {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(socket);
    c.once('error', reject);
    c.once('connect', () => {
      let buf = '';
      const waiting = [];
      c.on('data', (d) => {
        buf += d.toString('latin1');
        for (let i = buf.indexOf('\n'); i >= 0 && waiting.length > 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i).replace(/^\xff/, '');
          buf = buf.slice(i + 1);
          waiting.shift()(JSON.parse(line));
        }
      });
      const call = (execute, args) =>
        new Promise((res) => {
          waiting.push(res);
          c.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
        });
      resolve({ call, close: () => c.destroy() });
    });
  });
}

async function train() {
  const { load, scripts } = createLoader({
    source: (name) => fs.readFileSync(path.join(dir, name), 'latin1'),
    cachedData: () => undefined,
    selfUrl: pathToFileURL(process.execPath).href,
    onRejected: () => {},
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guestlink-train-'));
  try {
    const statedir = path.join(tmp, 'state');
    fs.mkdirSync(statedir, { mode: 0o700 });
    const socket = path.join(tmp, 'agent.sock');
    const argv = ['-m', 'unix-listen', '-p', socket, '-t', statedir, '-c', '/dev/null', '-l', path.join(tmp, 'log')];
    argv.push('--power', 'dry-run', '--allow-exec', '/bin/true');
    const agent = await load('agent.js').startAgent(argv, {});
    const c = await client(socket);
    await c.call('guest-sync-delimited', { id: 1 });
    // Enough rounds that the request path runs as it will (its first calls take the slow, unoptimised road).
    for (let i = 0; i < 20; i++) {
      await c.call('guest-sync', { id: i });
      await c.call('guest-ping');
    }
    await c.call('guest-info');
    const pid = (await c.call('guest-exec', { path: '/bin/true', 'capture-output': true })).return?.pid;
    for (let i = 0; pid !== undefined && i < 500; i++) {
      if ((await c.call('guest-exec-status', { pid })).return?.exited) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    c.close();
    await agent.close();
    const out = process.stdout.write.bind(process.stdout);
    process.stdout.write = () => true; // `guestlink --version` prints; this script's stdout is its JSON line
    try {
      await load('cli.js').main(['--version']);
    } finally {
      process.stdout.write = out;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const cached = {};
  for (const [name, script] of scripts) {
    const data = script.createCachedData();
    fs.writeFileSync(path.join(dir, `${name}.cache`), data);
    cached[name] = data.length;
  }
  process.stdout.write(`${JSON.stringify({ cached })}\n`);
}

train().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`train: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
