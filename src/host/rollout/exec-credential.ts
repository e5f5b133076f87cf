// kubeconfig exec credential plugins (client.authentication.k8s.io v1/v1beta1: kubelogin, cloud
// CLIs, talosctl-style helpers) for the host CLI. The agent refuses them (a config file must not
// make a root daemon run programs); the rollout runs on the user's machine with the user's own
// kubeconfig, as kubectl does, so it runs them as kubectl would: the command with its args and
// env, KUBERNETES_EXEC_INFO set, stdin and stderr the terminal's when interactive. Tokens are
// re-fetched when their expirationTimestamp passes (a rollout can outlive a short-lived token);
// a client certificate from a plugin is used as given.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { ExecHandler } from '../../kube/kubeconfig.js';
import { RolloutError } from './errors.js';
import { printable } from './names.js';

type Obj = Record<string, unknown>;

/** How long a plugin may run (an interactive login included). */
export const EXEC_TIMEOUT_MS = 5 * 60_000;
/** Largest answer read from a plugin. */
const MAX_OUTPUT = 1 << 20;
/** Re-fetch this long before the token expires. */
const EARLY_MS = 30_000;

interface Credential {
  token?: string;
  cert?: string;
  key?: string;
  expires?: number;
}

function fail(user: string, why: string): RolloutError {
  return new RolloutError('ROLLOUT_API', `kubeconfig user "${printable(user)}": exec plugin ${why}`);
}

/** An ExecHandler for loadKubeconfig, with the environment the CLI read once and whether stdin is a terminal. */
export function execCredentials(env: Readonly<Record<string, string | undefined>>, stdinIsTty: boolean): ExecHandler {
  return (exec, ctx) => {
    const command = exec.command;
    if (typeof command !== 'string' || command === '') throw fail(ctx.user, 'has no command');
    const apiVersion = typeof exec.apiVersion === 'string' ? exec.apiVersion : 'client.authentication.k8s.io/v1';
    if (!/^client\.authentication\.k8s\.io\/(v1|v1beta1)$/.test(apiVersion))
      throw fail(ctx.user, `apiVersion ${printable(apiVersion)} is not supported (v1, v1beta1)`);
    const args = Array.isArray(exec.args) ? exec.args.filter((a): a is string => typeof a === 'string') : [];
    const extra = Array.isArray(exec.env) ? (exec.env as Obj[]) : [];
    const mode = typeof exec.interactiveMode === 'string' ? exec.interactiveMode : 'IfAvailable';
    const interactive = mode === 'Always' || (mode === 'IfAvailable' && stdinIsTty);
    if (mode === 'Always' && !stdinIsTty) throw fail(ctx.user, 'wants a terminal (interactiveMode Always) and stdin is not one');
    // A relative path with a slash is relative to the kubeconfig that names it (as client-go does).
    const file = command.includes('/') && !path.isAbsolute(command) ? path.resolve(ctx.dir, command) : command;
    const spec: Obj = { interactive };
    if (exec.provideClusterInfo === true)
      spec.cluster = {
        server: ctx.server,
        ...(ctx.ca ? { 'certificate-authority-data': ctx.ca.toString('base64') } : {}),
        ...(ctx.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
      };
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
    for (const e of extra) if (typeof e?.name === 'string' && typeof e.value === 'string') childEnv[e.name] = e.value;
    childEnv.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion, kind: 'ExecCredential', spec });

    const run = (): Credential => {
      let out: string;
      try {
        out = execFileSync(file, args, {
          env: childEnv,
          encoding: 'utf8',
          maxBuffer: MAX_OUTPUT,
          timeout: EXEC_TIMEOUT_MS,
          stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'inherit'],
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const hint = typeof exec.installHint === 'string' ? ` (${printable(exec.installHint, 300)})` : '';
        throw fail(
          ctx.user,
          e.code === 'ENOENT' ? `${printable(command)} not found${hint}` : `${printable(command)} failed: ${printable(e.message, 300)}`,
        );
      }
      let doc: Obj;
      try {
        doc = JSON.parse(out) as Obj;
      } catch {
        throw fail(ctx.user, `${printable(command)} did not print an ExecCredential (not JSON)`);
      }
      const st = (doc?.status ?? {}) as Obj;
      if (doc?.kind !== 'ExecCredential' || typeof st !== 'object')
        throw fail(ctx.user, `${printable(command)} did not print an ExecCredential`);
      const c: Credential = {};
      if (typeof st.token === 'string' && st.token) c.token = st.token;
      if (typeof st.clientCertificateData === 'string' && typeof st.clientKeyData === 'string') {
        c.cert = st.clientCertificateData;
        c.key = st.clientKeyData;
      }
      if (!c.token && !c.cert) throw fail(ctx.user, `${printable(command)} gave neither a token nor a client certificate`);
      const exp = typeof st.expirationTimestamp === 'string' ? Date.parse(st.expirationTimestamp) : Number.NaN;
      if (Number.isFinite(exp)) c.expires = exp;
      return c;
    };

    let cred = run();
    const out: ReturnType<ExecHandler> = {};
    if (cred.cert && cred.key) {
      out.cert = cred.cert;
      out.key = cred.key;
    }
    if (cred.token)
      out.token = () => {
        if (cred.expires !== undefined && Date.now() > cred.expires - EARLY_MS) cred = run();
        return cred.token;
      };
    return out;
  };
}
