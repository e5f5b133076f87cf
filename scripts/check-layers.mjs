#!/usr/bin/env node
// Fails when an import crosses the layers the wrong way (DESIGN.md), when imports form a cycle, or when
// a source file grows past MAX_LINES.
// Rules are checked on src/**/*.ts import specifiers; cycles are found by madge on the compiled JS.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import madge from 'madge';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'src');

// For each layer (top folder under src/), the folders it may import from. Anything else is a violation.
const ALLOWED = {
  protocol: ['protocol'],
  // The native addon's loader (src/native/): it imports nothing of ours. Who may load it: the node back
  // ends (ioctls, clock, reboot, the file opener), the transports (readiness, vsock, the VMware backdoor)
  // and agent/, which hands the transports and the VMware front end what they need. commands/ may not:
  // the VMware front end in commands/vmware gets its channels from transport/ through agent/.
  native: [],
  transport: ['transport', 'native'],
  dispatch: ['dispatch', 'protocol', 'commands/context', 'node/interfaces'],
  commands: ['commands', 'protocol', 'node/interfaces'],
  node: ['node', 'protocol', 'text', 'native'],
  // Kubernetes awareness wraps a back end's Power; it sees only the node interfaces.
  kube: ['kube', 'node/interfaces', 'text', 'version'],
  // Text formats several layers read (YAML that must never be quoted in errors): pure functions.
  text: ['text'],
  // The host reads clusters with the same small kubeconfig reader and REST client the agent uses (not a
  // second implementation, and not @kubernetes/client-node's 70 MB): node:// and tls:// addresses read the
  // user's kubeconfig and Node objects, the rolling reboot (host/rollout) the cluster's health. kube/
  // imports nothing of agent/, so the agent's composition stays out of the host.
  host: ['host', 'kube', 'protocol', 'version'],
  // Cloud-init and ISO 9660 writers: pure data in, bytes out.
  provision: ['provision', 'settings', 'version'],
  cli: ['cli', 'host', 'protocol', 'provision', 'settings', 'version'],
  agent: ['agent', 'commands', 'dispatch', 'kube', 'native', 'node', 'protocol', 'settings', 'transport', 'version'],
  // The settings engine: tables in, parsed and checked values out; it knows none of its users.
  settings: ['settings'],
  version: [],
};
// The node interfaces (node/interfaces.ts and node/interfaces/*) are what commands/, dispatch/ and kube/
// see of a back end: they may name the command table's types and each other, never a back end.
const INTERFACES = /^node\/interfaces(\.ts$|\/)/;
const INTERFACES_MAY_IMPORT = ['node/interfaces', 'protocol'];
// Back ends are reached only through node/interfaces from outside node/.
const BACKEND_ONLY_FROM = ['agent', 'node'];
// OS work (spawning, opening files) belongs in node/: these layers may not import the modules that do it.
const NO_OS_WORK = ['protocol', 'dispatch', 'commands'];
const OS_MODULES = /^(node:)?(fs|fs\/promises|child_process)$/;
// Small files named for what they own (issue 17): a source file (src/**/*.ts but tests, native/*.c) over
// ~350 lines is doing more than one job; split it by concept. 360 leaves room for a comment, not a job.
const MAX_LINES = 360;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const violations = [];
/** The size rule (MAX_LINES), for a source file's text. */
function checkSize(file, text) {
  const lines = text.split('\n').length - 1;
  if (lines > MAX_LINES) violations.push(`${path.relative(root, file)} has ${lines} lines (at most ${MAX_LINES}): split it by concept`);
}

for (const file of walk(src)) {
  const rel = path.relative(src, file);
  const layer = rel.split(path.sep)[0].replace(/\.ts$/, '');
  const text = readFileSync(file, 'utf8');
  checkSize(file, text);
  if (NO_OS_WORK.includes(layer)) {
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'".][^'"]*)['"]/g)) {
      if (OS_MODULES.test(m[1])) violations.push(`${rel} imports ${m[1]}: "${layer}" does no OS work; put it behind node/interfaces`);
    }
  }
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)) {
    const target = path.relative(src, path.resolve(path.dirname(file), m[1])).replace(/\.js$/, '');
    const allowed = ALLOWED[layer];
    if (!allowed) {
      violations.push(`${rel}: layer "${layer}" has no rule in scripts/check-layers.mjs`);
      continue;
    }
    const ok = allowed.some((a) => target === a || target.startsWith(`${a}/`));
    if (!ok) violations.push(`${rel} imports ${target}: "${layer}" may import only ${allowed.join(', ') || 'nothing of ours'}`);
    if (INTERFACES.test(rel.split(path.sep).join('/')) && !INTERFACES_MAY_IMPORT.some((a) => target === a || target.startsWith(`${a}/`)))
      violations.push(`${rel} imports ${target}: the node interfaces may import only ${INTERFACES_MAY_IMPORT.join(', ')}`);
    if (/^node\/(linux|talos|dry-run)\//.test(target) && !BACKEND_ONLY_FROM.includes(layer))
      violations.push(`${rel} imports the concrete back end ${target}: use node/interfaces`);
  }
}

const nativeDir = path.join(root, 'native');
for (const name of readdirSync(nativeDir).filter((n) => n.endsWith('.c'))) {
  const file = path.join(nativeDir, name);
  checkSize(file, readFileSync(file, 'utf8'));
}

const graph = await madge(path.join(root, 'dist/src'), { fileExtensions: ['js'], excludeRegExp: [/\.test\.js$/] });
const cycles = graph.circular();
for (const c of cycles) violations.push(`circular import: ${c.join(' -> ')}`);

if (violations.length > 0) {
  console.error(`layer check failed:\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log(`layer check: ${walk(src).length} files, no violations, no cycles`);
