// Reads a talosconfig (talosctl's client config, also what a Talos ServiceAccount's Secret holds):
// `context: NAME`, `contexts: {NAME: {endpoints, nodes, ca, crt, key}}`, the PEMs base64-encoded.
import { X509Certificate } from 'node:crypto';
import { parseYamlQuietly } from '../../text/quiet-yaml.js';

/** apid's port. */
export const APID_PORT = 50000;

export class TalosConfigError extends Error {
  readonly code = 'TALOS_CONFIG';
}

export interface TalosContext {
  name: string;
  endpoints: string[];
  /** Listed for completeness; never used as the target (see client.ts: only --talos-node is). */
  nodes: string[];
  ca: Buffer;
  crt: Buffer;
  /** The client key as PEM that Node's TLS accepts (Talos's `ED25519 PRIVATE KEY` label relabelled). */
  key: Buffer;
}

/**
 * Talos writes Ed25519 PKCS#8 keys under the non-standard label `ED25519 PRIVATE KEY`; OpenSSL (and
 * so Node's TLS) only reads PKCS#8 under `PRIVATE KEY`. The DER inside is the same.
 */
export function relabelKey(pem: string): string {
  return pem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----');
}

function pem(value: unknown, what: string, source: string): Buffer {
  if (typeof value !== 'string' || value === '') throw new TalosConfigError(`${source}: ${what} is missing`);
  const text = Buffer.from(value, 'base64').toString('utf8');
  if (!text.includes('-----BEGIN ')) throw new TalosConfigError(`${source}: ${what} is not base64 of a PEM block`);
  return Buffer.from(what === 'key' ? relabelKey(text) : text, 'utf8');
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

/** Parses talosconfig text; `contextName` overrides the file's current context. */
export function parseTalosconfig(text: string, source: string, contextName?: string): TalosContext {
  let doc: unknown;
  try {
    doc = parseYamlQuietly(text);
  } catch (err) {
    // Line, column and kind only: the file holds the client key, and this text reaches the start-up error.
    throw new TalosConfigError(`${source}: not YAML: ${(err as Error).message}`);
  }
  const root = (doc ?? {}) as Record<string, unknown>;
  const contexts = (root.contexts ?? {}) as Record<string, unknown>;
  const name = contextName ?? (typeof root.context === 'string' ? root.context : Object.keys(contexts)[0]);
  if (name === undefined) throw new TalosConfigError(`${source}: no context`);
  const ctx = contexts[name] as Record<string, unknown> | undefined;
  if (!ctx || typeof ctx !== 'object') throw new TalosConfigError(`${source}: context "${name}" is not defined`);
  return {
    name,
    endpoints: strings(ctx.endpoints),
    nodes: strings(ctx.nodes),
    ca: pem(ctx.ca, 'ca', source),
    crt: pem(ctx.crt, 'crt', source),
    key: pem(ctx.key, 'key', source),
  };
}

/** The roles a Talos client certificate carries: its Subject Organization values (os:admin, os:operator, ...). */
export function certificateRoles(crtPem: Buffer | string): string[] {
  const subject = new X509Certificate(crtPem).subject;
  return subject
    .split('\n')
    .filter((line) => line.startsWith('O='))
    .map((line) => line.slice(2).replace(/^"(.*)"$/, '$1'));
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address -> `host:port` for a gRPC target, port 50000 by default. */
export function endpointTarget(endpoint: string): string {
  const e = endpoint.replace(/^(https?|dns|ipv4|ipv6):\/*/, '');
  if (e.startsWith('[')) return e.includes(']:') ? e : `${e}:${APID_PORT}`;
  const colons = (e.match(/:/g) ?? []).length;
  if (colons === 0) return `${e}:${APID_PORT}`;
  if (colons === 1) return e;
  return `[${e}]:${APID_PORT}`;
}
