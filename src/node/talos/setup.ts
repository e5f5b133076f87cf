// Turns the settings and the chosen way in into a connection target, plus the facts the
// least-privilege check needs. No gRPC here: this runs before the client is created.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { SERVICE_ACCOUNT_CONFIG } from '../select.js';
import type { TalosTarget } from './client.js';
import type { PrivilegeFacts } from './privilege.js';
import { mountOf } from './privilege.js';
import { certificateRoles, endpointTarget, parseTalosconfig, TalosConfigError } from './talosconfig.js';

export interface TalosSettings {
  talosEndpoint?: string;
  talosNode?: string;
  talosRole: string;
}

export interface FileDeps {
  readFile(p: string): string;
  mode(p: string): number;
  realpath(p: string): string;
  mountinfo(): string | undefined;
  /** Changes whenever the file's content may have: a Secret update swaps the `..data` symlink. */
  stamp(p: string): string;
}

const realFs: FileDeps = {
  readFile: (p) => readFileSync(p, 'utf8'),
  mode: (p) => statSync(p).mode,
  realpath: (p) => realpathSync(p),
  mountinfo: () => {
    try {
      return readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return undefined;
    }
  },
  stamp: (p) => {
    try {
      const st = statSync(p);
      return `${realpathSync(p)}:${st.mtimeMs}:${st.size}`;
    } catch {
      return 'missing';
    }
  },
};

export interface TalosSetup {
  target: TalosTarget;
  facts: PrivilegeFacts;
  /** For the start-up log line. */
  describe: Record<string, string>;
  /**
   * DaemonSet mode: Talos renews a ServiceAccount's certificate every few hours (6 h lifetime) by
   * updating the Secret, so the client must follow the file instead of keeping the first one.
   */
  refresh?: { stamp(): string; target(): TalosTarget };
}

export function setupSocket(socket: string, s: TalosSettings): TalosSetup {
  return {
    target: { kind: 'socket', path: socket, role: s.talosRole },
    facts: { roles: [s.talosRole], source: `talos-role ${s.talosRole}` },
    describe: { via: 'machined socket', socket, role: s.talosRole },
  };
}

/**
 * DaemonSet mode. The target node is only ever --talos-node, never the talosconfig's `nodes`: apid
 * behind talos.default load-balances over control-plane nodes, so without `node` metadata a reboot
 * would land on whichever node answered. Hence no node, no start.
 */
export function setupTalosconfig(file: string, s: TalosSettings, fs: FileDeps = realFs): TalosSetup {
  let text: string;
  try {
    text = fs.readFile(file);
  } catch (err) {
    throw new TalosConfigError(`cannot read talosconfig ${file}: ${(err as Error).message}`);
  }
  const ctx = parseTalosconfig(text, file);
  if (s.talosNode === undefined)
    throw new TalosConfigError(
      `talos-node is required with a talosconfig (${file}): set --talos-node or GUESTLINK_TALOS_NODE to this node's IP (downward API status.hostIP), or apid may act on another node`,
    );
  const endpoint = s.talosEndpoint ?? ctx.endpoints[0] ?? (file === SERVICE_ACCOUNT_CONFIG ? 'talos.default' : undefined);
  if (endpoint === undefined) throw new TalosConfigError(`talosconfig ${file} lists no endpoint: set --talos-endpoint HOST:PORT`);
  let roles: string[];
  try {
    roles = certificateRoles(ctx.crt);
  } catch (err) {
    throw new TalosConfigError(`talosconfig ${file}: crt is not a certificate: ${(err as Error).message}`);
  }
  const real = fs.realpath(file);
  const info = fs.mountinfo();
  const mount = info === undefined ? undefined : mountOf(real, info);
  return {
    target: { kind: 'mtls', endpoint: endpointTarget(endpoint), node: s.talosNode, ca: ctx.ca, crt: ctx.crt, key: ctx.key },
    facts: {
      roles,
      source: `certificate of ${file}`,
      file: { path: file, mode: fs.mode(file), ...(mount ? { mount } : {}) },
    },
    refresh: { stamp: () => fs.stamp(file), target: () => setupTalosconfig(file, s, fs).target },
    describe: {
      via: 'apid mTLS',
      talosconfig: file,
      context: ctx.name,
      endpoint: endpointTarget(endpoint),
      node: s.talosNode,
      roles: roles.join(','),
    },
  };
}
