// YAML from a guest, parsed as hostile input: one document of the YAML 1.2 core schema, and nothing a
// kubeconfig never contains but an attacker would use — aliases and anchors (billion laughs), merge
// keys, explicit tags (!!binary, !!python/...), directives, duplicate keys, keys that are not strings.
// Everything is refused with the reason rather than interpreted, because kubectl (go-yaml, YAML 1.1)
// could read the same text differently from us. The yaml library's parser takes ~1 GB for 1 MiB of '['
// and minutes for 100,000 keys in one map (its duplicate-key check is quadratic), so the text is first
// lexed (cheap, streaming) and refused past MAX_YAML_NODES nodes or MAX_YAML_DEPTH levels.
import YAML, { CST, isAlias, isNode, isScalar, Lexer } from 'yaml';
import { UnsafeKubeconfigError } from '../errors.js';

const OPTIONS = {
  version: '1.2',
  schema: 'core',
  uniqueKeys: true,
  merge: false,
  maxAliasCount: 0,
  strict: true,
  prettyErrors: false,
} as const;

/** A kubeconfig with 600 clusters has ~10,000 nodes; none comes near. Fixed, as the file size bound (--max-bytes) is the knob. */
export const MAX_YAML_NODES = 10_000;
/** Levels of flow collections, or of block collections opened on one line ("- - - x"); a kubeconfig has ~5. */
export const MAX_YAML_DEPTH = 64;

const NODE_TOKENS = new Set([
  'scalar',
  'single-quoted-scalar',
  'double-quoted-scalar',
  'block-scalar-header',
  'flow-map-start',
  'flow-seq-start',
  'seq-item-ind',
  'explicit-key-ind',
]);

/** The lexer pass: what needs no parse to refuse, and what would make the parse itself the attack. */
function prescan(text: string): string | undefined {
  let nodes = 0;
  let flow = 0;
  let onLine = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'alias') return 'an alias (*name)';
    if (type === 'anchor') return `an anchor (${token})`;
    if (type === 'tag') return `an explicit tag (${token})`;
    if (type === 'directive-line') return 'a directive (%...)';
    if (type === 'newline') onLine = 0;
    else if (type === 'flow-map-end' || type === 'flow-seq-end') flow--;
    if (!type || !NODE_TOKENS.has(type)) continue;
    if (++nodes > MAX_YAML_NODES) return `more than ${MAX_YAML_NODES} nodes`;
    if (type === 'flow-map-start' || type === 'flow-seq-start') flow++;
    if (type === 'seq-item-ind' || type === 'explicit-key-ind') onLine++;
    if (flow > MAX_YAML_DEPTH || onLine > MAX_YAML_DEPTH) return `more than ${MAX_YAML_DEPTH} levels of nesting`;
  }
  return undefined;
}

const refuse = (why: string) => new UnsafeKubeconfigError(`the guest's kubeconfig is not plain YAML: ${why}; nothing was written`);
const firstLine = (s: string) => s.split('\n')[0] ?? s;

/** Parses the guest's text into plain data, or throws UnsafeKubeconfigError saying what was refused. */
export function parseGuestYaml(text: string): unknown {
  const early = prescan(text);
  if (early) throw refuse(early);
  const docs = YAML.parseAllDocuments(text, OPTIONS);
  const list = Array.isArray(docs) ? docs : [];
  if (list.length !== 1) throw refuse(list.length === 0 ? 'it is empty' : `it holds ${list.length} documents`);
  const doc = list[0] as YAML.Document.Parsed;
  if (doc.errors.length > 0) throw refuse(firstLine(doc.errors[0]?.message ?? 'a syntax error'));
  if (doc.warnings.length > 0) throw refuse(firstLine(doc.warnings[0]?.message ?? 'a warning'));
  if (doc.directives?.yaml.explicit) throw refuse('a %YAML directive');
  let why: string | undefined;
  YAML.visit(doc, {
    Alias() {
      why = 'an alias (*name)';
      return YAML.visit.BREAK;
    },
    Node(_key, node) {
      if (node.anchor) why = `an anchor (&${node.anchor})`;
      else if (node.tag) why = `an explicit tag (${node.tag})`;
      return why ? YAML.visit.BREAK : undefined;
    },
    Pair(_key, pair) {
      const k = pair.key;
      if (isAlias(k) || !isScalar(k) || typeof k.value !== 'string') why = 'a map key that is not a string';
      else if (k.value === '<<') why = 'a merge key (<<)';
      else if (isNode(k) && (k.anchor || k.tag)) why = 'an anchor or tag on a map key';
      return why ? YAML.visit.BREAK : undefined;
    },
  });
  if (why) throw refuse(why);
  return doc.toJS({ maxAliasCount: 0 });
}
