// Builds bench/least-agent.cjs as a single executable on the executable's own Node with its flags
// (scripts/build-sea.mjs: SEA_NODE_VERSION, EXEC_ARGV; Node's own code cache of the script), so a run
// can say how far the agent's start and idle memory sit above what any Node agent costs here (bench/run.mjs
// prints it beside the start and memory rows). Cached in .tmp/bench-least-agent/, keyed by the script,
// the Node and the flags. Never shipped.
//   node bench/least-agent.mjs      prints the executable's path
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defaultArch, EXEC_ARGV, SEA_FUSE, SEA_NODE_VERSION, seaNode } from '../scripts/build-sea.mjs';
import { onPath } from '../scripts/sea-targets.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SCRIPT = path.join(root, 'bench', 'least-agent.cjs');

/** The least agent's executable for this host's architecture: built once per script, Node and flags. */
export async function buildLeastAgent() {
  const node = seaNode(defaultArch());
  const key = createHash('sha256')
    .update(readFileSync(SCRIPT))
    .update(`${SEA_NODE_VERSION}\0${EXEC_ARGV.join(' ')}`)
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(root, '.tmp', 'bench-least-agent', key);
  const exe = path.join(dir, 'least-agent');
  if (existsSync(exe)) return exe;
  const work = `${dir}.work-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const blob = path.join(work, 'sea.blob');
    const config = path.join(work, 'sea-config.json');
    writeFileSync(
      config,
      JSON.stringify({ main: SCRIPT, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, execArgv: EXEC_ARGV }),
    );
    // Node says "Wrote single executable preparation blob" on stderr; what it says on failure is in the error.
    execFileSync(node.bin, [...EXEC_ARGV, '--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const tmpExe = path.join(work, 'least-agent');
    // Stripped as the executable is (the same pages are what a start maps).
    if (onPath('strip')) execFileSync('strip', ['--strip-unneeded', '-o', tmpExe, node.bin]);
    else copyFileSync(node.bin, tmpExe);
    chmodSync(tmpExe, 0o755);
    const { inject } = createRequire(import.meta.url)('postject');
    await inject(tmpExe, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
    try {
      renameSync(work, dir);
    } catch (err) {
      if (!existsSync(exe)) throw err; // another run built it meanwhile
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return exe;
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  process.stdout.write(`${await buildLeastAgent()}\n`);
}
