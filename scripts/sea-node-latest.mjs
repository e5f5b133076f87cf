#!/usr/bin/env node
// Whether the Node the single executable is pinned to (scripts/sea-targets.mjs SEA_NODE_VERSION) is still
// the newest release of its line in the npm registry, for every architecture built. The executable runs
// as root on every node: a security release of Node is a release of guestlink.
//   node scripts/sea-node-latest.mjs      (npm run sea:node-latest)
// Prints the pin and the newest release of the same major per package; when one is newer, prints the
// version and the integrities to pin, and exits 1. Needs the registry (npm view); exits 2 when it cannot
// ask it. Not part of the test suite on purpose: a Node release must not turn a commit's CI red.
import { execFileSync } from 'node:child_process';
import { SEA_NODE_VERSION, TARGETS } from './sea-targets.mjs';

/** [major, minor, patch] of "x.y.z"; undefined for anything else (pre-releases included). */
export function parseVersion(v) {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** The newest of `versions` with the same major as `pinned` (pre-releases ignored); undefined when none. */
export function newestOfLine(versions, pinned) {
  const major = parseVersion(pinned)?.[0];
  let best;
  for (const v of versions) {
    const p = parseVersion(v);
    if (!p || p[0] !== major) continue;
    const b = best && parseVersion(best);
    if (!b || p[1] > b[1] || (p[1] === b[1] && p[2] > b[2])) best = v;
  }
  return best;
}

function npmView(spec, field) {
  return JSON.parse(execFileSync('npm', ['view', spec, field, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  let behind = false;
  try {
    for (const t of Object.values(TARGETS)) {
      const newest = newestOfLine(npmView(t.npm, 'versions'), SEA_NODE_VERSION);
      if (!newest || newest === SEA_NODE_VERSION) {
        console.log(`${t.npm}: ${SEA_NODE_VERSION} is the newest of its line`);
        continue;
      }
      behind = true;
      console.log(`${t.npm}: pinned ${SEA_NODE_VERSION}, newest ${newest}: integrity ${npmView(`${t.npm}@${newest}`, 'dist.integrity')}`);
    }
  } catch (err) {
    console.error(`sea-node-latest: cannot ask the npm registry: ${err.message.split('\n')[0]}`);
    process.exit(2);
  }
  if (behind) {
    console.log('update SEA_NODE_VERSION and the integrities in scripts/sea-targets.mjs, rebuild and run the tests');
    process.exit(1);
  }
}
