// Reads YAML text from users (schematic files, nodes.json) into a plain tree with line numbers, under
// caps: bytes, nodes (aliases count each time they are used, so a "billion laughs" file stops early),
// nesting depth. Scalars keep how they were written, because go-yaml types a plain `10` but not a
// quoted "10". Custom tags and merge keys are refused rather than silently ignored as go-yaml would.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseAllDocuments, Scalar } from 'yaml';
import { TalosInputError, TalosLimitError } from '../errors.js';

/** A loaded node; `plain` scalars are typed by go-yaml's resolver, the others are strings. */
export type LNode =
  | { kind: 'scalar'; value: string; plain: boolean; line: number }
  | { kind: 'seq'; items: LNode[]; line: number }
  | { kind: 'map'; pairs: [LNode, LNode][]; line: number };

/** Caps on one input document (docs/security.md lists them with their flags). */
export interface LoadLimits {
  /** Bytes of text (default 1 MiB). */
  maxBytes: number;
  /** Nodes after alias expansion (default 100,000). */
  maxNodes: number;
  /** Nesting depth (default 64). */
  maxDepth: number;
}

export const DEFAULT_LOAD_LIMITS: LoadLimits = { maxBytes: 1 << 20, maxNodes: 100_000, maxDepth: 64 };

const STD_TAGS = new Set(['tag:yaml.org,2002:str', 'tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq']);

/** Parses one YAML document; `what` names the input in messages (e.g. "schematic.yaml"). */
export function loadYaml(text: string, what: string, limits: LoadLimits = DEFAULT_LOAD_LIMITS): LNode {
  if (Buffer.byteLength(text, 'utf8') > limits.maxBytes)
    throw new TalosLimitError(`${what} is larger than ${limits.maxBytes} bytes (raise --max-input-bytes if it is meant to be)`);
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: false, strict: true, lineCounter: lc, prettyErrors: false });
  if (!Array.isArray(docs) || docs.length === 0)
    throw new TalosInputError(`${what} is empty: a YAML document is expected`, undefined, 'EOF');
  if (docs.length > 1) throw new TalosInputError(`${what} holds ${docs.length} YAML documents; give one`);
  const doc = docs[0] as (typeof docs)[number];
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0].line;
    throw new TalosInputError(`${what}${line ? ` line ${line}` : ''}: ${err.message.split('\n')[0]}`, line);
  }
  let nodes = 0;
  const lineOf = (n: Node | null | undefined) => (n?.range ? lc.linePos(n.range[0]).line : 1);
  const walk = (n: unknown, depth: number, via: Set<Node>): LNode => {
    if (++nodes > limits.maxNodes)
      throw new TalosLimitError(
        `${what} expands to more than ${limits.maxNodes} YAML nodes (aliases count each use; raise --max-yaml-nodes if it is meant to be)`,
      );
    if (depth > limits.maxDepth) throw new TalosLimitError(`${what} nests deeper than ${limits.maxDepth} levels`);
    if (n === null || n === undefined) return { kind: 'scalar', value: '', plain: true, line: 1 };
    if (isAlias(n)) {
      const target = n.resolve(doc);
      if (!target) throw new TalosInputError(`${what} line ${lineOf(n)}: alias *${n.source} has no anchor`, lineOf(n));
      if (via.has(target)) throw new TalosInputError(`${what} line ${lineOf(n)}: alias *${n.source} refers to itself`, lineOf(n));
      return walk(target, depth + 1, new Set([...via, target]));
    }
    const node = n as Node;
    const line = lineOf(node);
    if (node.tag !== undefined && !STD_TAGS.has(node.tag))
      throw new TalosInputError(`${what} line ${line}: the tag ${node.tag} is not accepted (write the value without it)`, line);
    if (isScalar(node)) {
      const plain = node.type === Scalar.PLAIN && node.tag === undefined;
      const value = String(node.value);
      if (plain && value === '<<')
        throw new TalosInputError(`${what} line ${line}: merge keys (<<) are not accepted; write the keys out`, line);
      return { kind: 'scalar', value, plain, line };
    }
    if (isSeq(node)) return { kind: 'seq', items: node.items.map((i) => walk(i, depth + 1, via)), line };
    if (isMap(node))
      return {
        kind: 'map',
        pairs: node.items.map((p) => {
          if (!isPair(p)) throw new TalosInputError(`${what} line ${line}: malformed mapping`, line);
          return [walk(p.key, depth + 1, via), walk(p.value, depth + 1, via)] as [LNode, LNode];
        }),
        line,
      };
    throw new TalosInputError(`${what} line ${line}: unexpected YAML node`, line);
  };
  return walk(doc.contents, 0, new Set());
}
