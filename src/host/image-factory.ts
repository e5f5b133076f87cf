// A client for the Talos Image Factory's schematic API (siderolabs/image-factory docs/api.md):
// POST /schematics with the canonical YAML, 201 {id, schematic}. The caller computed the ID locally; a
// different answer is an error that shows both IDs and the factory's canonical form, because it means
// the images would not be the ones the user described. Errors come back as plain text with a status.

/** What the factory answered for a schematic. */
export interface RegisteredSchematic {
  id: string;
  /** The factory's canonical YAML for it. */
  schematic: string;
}

export interface FactoryOptions {
  /** Base URL, e.g. https://factory.talos.dev (http:// only for a factory on this machine's loopback). */
  url: string;
  /** Deadline for one request (default 30 s). */
  timeoutMs?: number;
  /** Largest reply body read (default 1 MiB). */
  maxReplyBytes?: number;
}

/** The factory refused the request or answered something that is not its API. */
export class FactoryError extends Error {
  readonly code: 'FACTORY_REFUSED' | 'FACTORY_UNREACHABLE' | 'FACTORY_BAD_REPLY';
  constructor(
    code: 'FACTORY_REFUSED' | 'FACTORY_UNREACHABLE' | 'FACTORY_BAD_REPLY',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.code = code;
  }
}

/** The factory's ID for the schematic differs from the one computed here. */
export class SchematicIdMismatchError extends Error {
  readonly code = 'SCHEMATIC_ID_MISMATCH';
  constructor(
    readonly localId: string,
    readonly factoryId: string,
    readonly factorySchematic: string,
  ) {
    super(
      `the Image Factory answered schematic ID ${factoryId}, but this schematic's ID is ${localId}; the factory's canonical form is:\n${factorySchematic.trimEnd()}\n(an Enterprise factory with authentication adds an owner; otherwise report it, with both forms)`,
    );
  }
}

export const DEFAULT_FACTORY_TIMEOUT_MS = 30_000;
export const DEFAULT_FACTORY_REPLY_BYTES = 1 << 20;

/** Checks the base URL: https, or http to loopback only (tests, a local factory). */
export function checkFactoryUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FactoryError('FACTORY_UNREACHABLE', `--factory "${url}" is not a URL (e.g. https://factory.talos.dev)`);
  }
  const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback))
    throw new FactoryError('FACTORY_UNREACHABLE', `--factory "${url}": https:// is required (http:// only to this machine's loopback)`);
  if (u.username || u.password) throw new FactoryError('FACTORY_UNREACHABLE', '--factory must not carry credentials in the URL');
  return u;
}

async function readCapped(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw new FactoryError('FACTORY_BAD_REPLY', `the Image Factory's reply is larger than ${max} bytes; is --factory the factory's URL?`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** POSTs the canonical schematic and checks the answer against the ID computed here. */
export async function registerSchematic(opts: FactoryOptions, canonical: string, localId: string): Promise<RegisteredSchematic> {
  const base = checkFactoryUrl(opts.url);
  const url = new URL(`${base.pathname.replace(/\/+$/, '')}/schematics`, base);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_FACTORY_TIMEOUT_MS;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml', accept: 'application/json' },
      body: canonical,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: Error };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.message ?? e.message);
    throw new FactoryError('FACTORY_UNREACHABLE', `cannot reach the Image Factory at ${base.origin}: ${why}`);
  }
  const body = await readCapped(res, opts.maxReplyBytes ?? DEFAULT_FACTORY_REPLY_BYTES);
  if (res.status !== 201 && res.status !== 200) {
    const msg = body.trim().slice(0, 2000) || res.statusText;
    const hint =
      res.status === 400
        ? 'the factory refused the schematic'
        : res.status === 401 || res.status === 403
          ? 'this factory needs authentication, which guestlink does not send; register the schematic another way and use -o id'
          : res.status >= 500
            ? 'the factory failed; try again later'
            : 'unexpected answer';
    throw new FactoryError('FACTORY_REFUSED', `Image Factory: HTTP ${res.status}: ${msg} (${hint})`, res.status);
  }
  let reply: unknown;
  try {
    reply = JSON.parse(body);
  } catch {
    throw new FactoryError(
      'FACTORY_BAD_REPLY',
      `the Image Factory answered HTTP ${res.status} without JSON; is --factory the factory's URL?`,
    );
  }
  const r = reply as { id?: unknown; schematic?: unknown };
  if (typeof r.id !== 'string' || !/^[0-9a-f]{64}$/.test(r.id))
    throw new FactoryError('FACTORY_BAD_REPLY', 'the Image Factory answered without a schematic ID (64 hex digits)');
  const schematic = typeof r.schematic === 'string' ? r.schematic : '';
  if (r.id !== localId) throw new SchematicIdMismatchError(localId, r.id, schematic);
  return { id: r.id, schematic };
}
