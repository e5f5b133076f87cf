#!/usr/bin/env node
// Fails when an import crosses the layers the wrong way (DESIGN.md) or when imports form a cycle.
// Rules are checked on src/**/*.ts import specifiers; cycles are found by madge on the compiled JS.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import madge from 'madge';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'src');

// For each layer (top folder under src/), the folders it may import from. Anything else is a violation.
const ALLOWED = {
  protocol: ['protocol'],
  transport: ['transport'],
  dispatch: ['dispatch', 'protocol', 'commands/context', 'node/interfaces'],
  commands: ['commands', 'protocol', 'node/interfaces'],
  node: ['node', 'protocol'],
  // Kubernetes awareness wraps a back end's Power; it sees only the node interfaces.
  kube: ['kube', 'node/interfaces', 'version'],
  // The rolling reboot (host/rollout) reads the cluster with kube's REST client and kubeconfig reader.
  host: ['host', 'kube', 'protocol', 'version'],
  // Cloud-init and ISO 9660 writers: pure data in, bytes out.
  provision: ['provision', 'version'],
  cli: ['cli', 'host', 'protocol', 'provision', 'version'],
  agent: ['agent', 'commands', 'dispatch', 'kube', 'node', 'protocol', 'transport', 'version'],
  version: [],
};
// Back ends are reached only through node/interfaces from outside node/.
const BACKEND_ONLY_FROM = ['agent', 'node'];

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const violations = [];
for (const file of walk(src)) {
  const rel = path.relative(src, file);
  const layer = rel.split(path.sep)[0].replace(/\.ts$/, '');
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)) {
    const target = path.relative(src, path.resolve(path.dirname(file), m[1])).replace(/\.js$/, '');
    const allowed = ALLOWED[layer];
    if (!allowed) {
      violations.push(`${rel}: layer "${layer}" has no rule in scripts/check-layers.mjs`);
      continue;
    }
    const ok = allowed.some((a) => target === a || target.startsWith(`${a}/`));
    if (!ok) violations.push(`${rel} imports ${target}: "${layer}" may import only ${allowed.join(', ') || 'nothing of ours'}`);
    if (/^node\/(linux|talos|dry-run)\//.test(target) && !BACKEND_ONLY_FROM.includes(layer))
      violations.push(`${rel} imports the concrete back end ${target}: use node/interfaces`);
  }
}

const graph = await madge(path.join(root, 'dist/src'), { fileExtensions: ['js'], excludeRegExp: [/\.test\.js$/] });
const cycles = graph.circular();
for (const c of cycles) violations.push(`circular import: ${c.join(' -> ')}`);

if (violations.length > 0) {
  console.error(`layer check failed:\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log(`layer check: ${walk(src).length} files, no violations, no cycles`);
