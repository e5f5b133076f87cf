// What every connector gives the verbs: a typed QGA `call`, the size limits of its path, and, where
// the hypervisor wraps file access in its own API (Proxmox), whole-file read and write.
import type { JsonObject, JsonValue } from '../protocol/qga/json-value.js';

export interface CallOptions {
  /** Milliseconds to wait for the reply (default 5000, libvirt's default). */
  timeoutMs?: number;
  /**
   * The largest payload (file bytes, program output) the caller accepts in this reply; the connector
   * stops reading a reply that could only be larger (TooLargeError). It can only lower the default
   * bound of host/reply-limits.ts.
   */
  maxPayloadBytes?: number;
}

/** Whole-file access for paths without guest-file-open handles (the Proxmox VE API). */
export interface WholeFileAccess {
  /** Largest file the API returns in one read (bytes). */
  readonly maxRead: number;
  /** Largest file the API accepts in one write (bytes, before base64). */
  readonly maxWrite: number;
  read(path: string, opts?: CallOptions): Promise<{ data: Buffer; truncated: boolean }>;
  write(path: string, data: Buffer, opts?: CallOptions): Promise<void>;
}

/** One agent behind one connector. */
export interface AgentConnection {
  /** The address as the user wrote it (unix:/..., libvirt:dom, pve://node/vmid). */
  readonly address: string;
  /** A short name for tables and kubeconfig entries (domain name, vmid, socket basename). */
  readonly name: string;
  /**
   * Largest guest-file-read count and guest-file-write payload this path carries well, and how many
   * requests may be in flight at once without being reordered (1 unless the path keeps order).
   */
  readonly limits: { readChunk: number; writeChunk: number; pipeline?: number };
  /** Present when file transfer goes through the hypervisor's own whole-file API. */
  readonly wholeFile?: WholeFileAccess;
  call(execute: string, args?: JsonObject, opts?: CallOptions): Promise<JsonValue>;
  close(): void;
}
