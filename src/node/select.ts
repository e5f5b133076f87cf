// Which node back end (linux or talos) and which way into Talos, from the settings and what exists on this
// machine. Imports nothing heavy (no gRPC, no YAML), so deciding costs nothing when the answer is "linux".
import { existsSync } from 'node:fs';

/** Where a Talos ServiceAccount's Secret is conventionally mounted in a pod (endpoint talos.default:50000). */
export const SERVICE_ACCOUNT_CONFIG = '/var/run/secrets/talos.dev/config';

export interface BackendSettings {
  nodeBackend: 'auto' | 'talos' | 'linux';
  talosSocket: string;
  talosconfig?: string;
}

export type BackendChoice =
  | { backend: 'linux' }
  | { backend: 'talos'; via: 'socket'; socket: string }
  | { backend: 'talos'; via: 'talosconfig'; file: string };

/**
 * An explicit talosconfig wins; then the machined socket (system-extension mode); then a Talos
 * ServiceAccount's config (DaemonSet mode). `auto` falls back to linux; `talos` to the socket even
 * when it is missing, so the agent starts and every call says the API is unreachable (machined
 * may be restarting), and so tests can point it at a double's socket.
 */
export function chooseBackend(s: BackendSettings, exists: (p: string) => boolean = existsSync): BackendChoice {
  if (s.nodeBackend === 'linux') return { backend: 'linux' };
  if (s.talosconfig !== undefined) return { backend: 'talos', via: 'talosconfig', file: s.talosconfig };
  if (exists(s.talosSocket)) return { backend: 'talos', via: 'socket', socket: s.talosSocket };
  if (exists(SERVICE_ACCOUNT_CONFIG)) return { backend: 'talos', via: 'talosconfig', file: SERVICE_ACCOUNT_CONFIG };
  return s.nodeBackend === 'talos' ? { backend: 'talos', via: 'socket', socket: s.talosSocket } : { backend: 'linux' };
}
