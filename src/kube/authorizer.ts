// Authorization of management-endpoint requests by Kubernetes RBAC, as the kubelet authorizes its
// own API: a SubjectAccessReview for resource "nodes", subresource "guestlink", name = this node,
// verb "get" (read-only commands) or "update" (mutating ones). Decisions are cached briefly; every
// resource is capped (cache entries, reviews in flight), and an API server that does not answer
// within the timeout denies (fail closed). A cached decision is answered synchronously, so an
// authorized guest-ping costs a Map lookup, not a promise.
import type { Logger } from 'pino';
import type { IdentityApi } from './identity-api.js';

/**
 * Who is on the other end of a management-endpoint connection. The same shape as commands/context.ts
 * Principal and transport/types.ts PeerIdentity: those layers may not import each other (nor kube),
 * so each states it, and agent/ hands one to the other.
 */
export interface Principal {
  user: string;
  groups: readonly string[];
  uid?: string;
  extra?: Record<string, string[]>;
  /** How it was proven; false while a token connection has not authenticated yet. */
  authenticated: 'certificate' | 'token' | false;
}

export type AccessVerb = 'get' | 'update';

export type DenialCode =
  /** RBAC says no. */
  | 'AUTHZ_DENIED'
  /** The API server did not answer in time or failed: denied, fail closed. */
  | 'AUTHZ_UNAVAILABLE'
  /** Too many reviews in flight: denied at once rather than queued without bound. */
  | 'AUTHZ_BUSY'
  /** A token connection that has not authenticated yet. */
  | 'AUTHN_REQUIRED';

/** A refused request, with the text the client sees. */
export class Denial {
  constructor(
    readonly code: DenialCode,
    readonly message: string,
  ) {}
}

export interface AuthorizerOptions {
  api: IdentityApi;
  nodeName: string;
  /** Bound on one review, from asking to answer; past it the request is denied. */
  timeoutMs: number;
  /** How long an "allowed" stays cached (0: never cached: every request asks the API server). */
  allowedTtlMs: number;
  /** How long a "denied" stays cached: short, so a new RoleBinding takes effect soon. */
  deniedTtlMs: number;
  /** Most cached decisions; the oldest goes first. */
  cacheSize: number;
  /** Most reviews in flight at once (identical ones share one). */
  maxPending: number;
  log: Logger;
}

interface Entry {
  denial: Denial | undefined;
  expires: number;
}

/** The ClusterRole (deploy/kubernetes/identity/users.yaml) that grants a verb. */
export const ROLE_FOR: Record<AccessVerb, string> = { get: 'guestlink-viewer', update: 'guestlink-operator' };

export class Authorizer {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Denial | undefined>>();

  constructor(private readonly o: AuthorizerOptions) {}

  /** Reviews in flight now (tests and diagnostics). */
  get pending(): number {
    return this.inflight.size;
  }

  /** Cached decisions now (tests and diagnostics). */
  get cached(): number {
    return this.cache.size;
  }

  /** undefined: allowed. A Denial: refused. A promise when the API server has to be asked. */
  check(p: Principal, verb: AccessVerb, command: string): Denial | undefined | Promise<Denial | undefined> {
    if (p.authenticated === false)
      return new Denial(
        'AUTHN_REQUIRED',
        `${command} refused: this connection has not authenticated; present a client certificate, or send guestlink-authenticate with a bearer token first`,
      );
    const key = `${verb}\u0000${p.user}\u0000${[...p.groups].sort().join('\u0001')}\u0000${p.uid ?? ''}`;
    const hit = this.cache.get(key);
    if (hit) {
      if (hit.expires > Date.now()) return this.named(hit.denial, command);
      this.cache.delete(key);
    }
    const running = this.inflight.get(key);
    if (running) return running.then((d) => this.named(d, command));
    if (this.inflight.size >= this.o.maxPending)
      return new Denial(
        'AUTHZ_BUSY',
        `${command} refused: ${this.o.maxPending} authorization checks are already waiting for the API server (--authz-max-pending); try again shortly`,
      );
    const review = this.review(p, verb, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, review);
    return review.then((d) => this.named(d, command));
  }

  /** A cached denial carries the command it was made for; name the one asked now. */
  private named(d: Denial | undefined, command: string): Denial | undefined {
    return d === undefined ? undefined : new Denial(d.code, d.message.replace(/^\S+ refused/, `${command} refused`));
  }

  private async review(p: Principal, verb: AccessVerb, key: string): Promise<Denial | undefined> {
    const { api, nodeName, timeoutMs, log } = this.o;
    const what = `nodes/guestlink ${verb}`;
    let status: Awaited<ReturnType<IdentityApi['subjectAccessReview']>>;
    try {
      status = await api.subjectAccessReview(
        {
          user: p.user,
          groups: p.groups,
          ...(p.uid ? { uid: p.uid } : {}),
          ...(p.extra ? { extra: p.extra } : {}),
          resourceAttributes: { verb, group: '', resource: 'nodes', subresource: 'guestlink', name: nodeName },
        },
        timeoutMs,
      );
    } catch (err) {
      // Not cached: the next request asks again.
      log.warn({ authz: 'unavailable', user: p.user, err: (err as Error).message }, 'SubjectAccessReview failed: request denied');
      return new Denial(
        'AUTHZ_UNAVAILABLE',
        `request refused: the API server could not confirm the permission ${what} for user "${p.user}" within ${timeoutMs} ms (denied: fail closed); retry when the API server is reachable`,
      );
    }
    const denial = status.allowed
      ? undefined
      : new Denial(
          'AUTHZ_DENIED',
          `request refused: user "${p.user}" (groups ${JSON.stringify(p.groups)}) lacks the permission ${what} on node "${nodeName}" (verb "${verb}" on resource "nodes", subresource "guestlink"); an administrator can grant it with the ClusterRole ${ROLE_FOR[verb]}${status.reason ? ` (${status.reason})` : ''}${status.evaluationError ? ` (evaluation error: ${status.evaluationError})` : ''}`,
        );
    const ttl = denial ? this.o.deniedTtlMs : this.o.allowedTtlMs;
    if (ttl > 0) {
      if (this.cache.size >= this.o.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, { denial, expires: Date.now() + ttl });
    }
    return denial;
  }
}

export interface AuthenticatorOptions {
  api: IdentityApi;
  /** The audience tokens must be minted for (kubectl create token NAME --audience guestlink). */
  audience: string;
  timeoutMs: number;
}

/** Longest bearer token accepted (service-account JWTs are ~1 KB; OIDC tokens a few KB). */
export const MAX_TOKEN_BYTES = 16 * 1024;

/** Bearer tokens checked by a TokenReview for guestlink's audience; a Principal or a Denial. */
export async function authenticateToken(o: AuthenticatorOptions, token: string): Promise<Principal | Denial> {
  if (token === '' || Buffer.byteLength(token) > MAX_TOKEN_BYTES || /\s/.test(token))
    return new Denial(
      'AUTHN_REQUIRED',
      `guestlink-authenticate refused: not a bearer token (empty, over ${MAX_TOKEN_BYTES} bytes, or with spaces)`,
    );
  let status: Awaited<ReturnType<IdentityApi['tokenReview']>>;
  try {
    status = await o.api.tokenReview(token, [o.audience], o.timeoutMs);
  } catch (err) {
    return new Denial(
      'AUTHZ_UNAVAILABLE',
      `guestlink-authenticate refused: the API server could not review the token within ${o.timeoutMs} ms (${(err as Error).message}); retry later`,
    );
  }
  const user = status.user?.username;
  if (!status.authenticated || !user)
    return new Denial(
      'AUTHN_REQUIRED',
      `guestlink-authenticate refused: the token was not accepted for audience "${o.audience}"${status.error ? ` (${status.error})` : ''}; mint one with \`kubectl create token NAME --audience ${o.audience}\``,
    );
  // The API answers with the audiences the token is valid for among those asked: ours must be one.
  if (status.audiences && !status.audiences.includes(o.audience))
    return new Denial('AUTHN_REQUIRED', `guestlink-authenticate refused: the token is not for audience "${o.audience}"`);
  return {
    user,
    groups: status.user?.groups ?? [],
    ...(status.user?.uid ? { uid: status.user.uid } : {}),
    ...(status.user?.extra ? { extra: status.user.extra } : {}),
    authenticated: 'token',
  };
}
