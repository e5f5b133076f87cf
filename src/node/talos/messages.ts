// The Talos API messages the agent sends and reads, by the field numbers of siderolabs/talos
// api/machine/machine.proto, api/common/common.proto and cosi-project/runtime's
// api/v1alpha1/{resource,state}.proto. Only the fields the agent uses are decoded; the rest are skipped.
import { type ProtoMessage, ProtoWriter } from './proto-wire.js';

export const METHODS = {
  reboot: '/machine.MachineService/Reboot',
  shutdown: '/machine.MachineService/Shutdown',
  version: '/machine.MachineService/Version',
  hostname: '/machine.MachineService/Hostname',
  memory: '/machine.MachineService/Memory',
  loadAvg: '/machine.MachineService/LoadAvg',
  mounts: '/machine.MachineService/Mounts',
  etcdSnapshot: '/machine.MachineService/EtcdSnapshot',
  cosiGet: '/cosi.resource.State/Get',
  cosiList: '/cosi.resource.State/List',
} as const;

/** machine.RebootRequest.Mode. */
export const REBOOT_MODE = { default: 0, powercycle: 1, force: 2 } as const;
export type RebootMode = keyof typeof REBOOT_MODE;

/** RebootRequest { Mode mode = 1 }. */
export function encodeRebootRequest(mode: RebootMode): Buffer {
  return new ProtoWriter().uint(1, REBOOT_MODE[mode]).finish();
}

/** ShutdownRequest { bool force = 1 }. */
export function encodeShutdownRequest(force: boolean): Buffer {
  return new ProtoWriter().bool(1, force).finish();
}

/** google.protobuf.Empty. */
export const EMPTY = Buffer.alloc(0);

/** cosi GetRequest { namespace = 1, type = 2, id = 3 }. */
export function encodeGetRequest(namespace: string, type: string, id: string): Buffer {
  return new ProtoWriter().string(1, namespace).string(2, type).string(3, id).finish();
}

/** cosi ListRequest { namespace = 1, type = 2 }. */
export function encodeListRequest(namespace: string, type: string): Buffer {
  return new ProtoWriter().string(1, namespace).string(2, type).finish();
}

/**
 * common.Metadata { hostname = 1, error = 2, status = 3 }: apid's proxy puts a node's failure here
 * instead of failing the call, so every reply message must be checked for it.
 */
export function metadataError(msg: ProtoMessage): string | undefined {
  const md = msg.message(1);
  if (!md) return undefined;
  const error = md.string(2);
  if (error !== '') return error;
  // google.rpc.Status { int32 code = 1; string message = 2 }
  const status = md.message(3);
  if (status && status.uint64(1) !== 0n) return status.string(2) || `status code ${status.uint64(1)}`;
  return undefined;
}

/** The `messages` (field 1) of a machine API reply: one per node answering. */
export function replyMessages(msg: ProtoMessage): ProtoMessage[] {
  return msg.messages(1);
}

export interface VersionInfo {
  tag: string;
  arch: string;
  platform?: string;
}

/** Version { VersionInfo version = 2 { tag = 1, arch = 6 }; PlatformInfo platform = 3 { name = 1 } }. */
export function decodeVersion(m: ProtoMessage): VersionInfo {
  const v = m.message(2);
  const p = m.message(3);
  const out: VersionInfo = { tag: v?.string(1) ?? '', arch: v?.string(6) ?? '' };
  if (p && p.string(1) !== '') out.platform = p.string(1);
  return out;
}

/** Hostname { string hostname = 2 }. */
export function decodeHostname(m: ProtoMessage): string {
  return m.string(2);
}

/** LoadAvg { double load1 = 2, load5 = 3, load15 = 4 }. */
export function decodeLoadAvg(m: ProtoMessage): { load1: number; load5: number; load15: number } {
  return { load1: m.double(2), load5: m.double(3), load15: m.double(4) };
}

/** Memory { MemInfo meminfo = 2 { memtotal = 1, memfree = 2, memavailable = 3 } }, in KiB as /proc/meminfo. */
export function decodeMemory(m: ProtoMessage): { totalKiB: bigint; freeKiB: bigint; availableKiB: bigint } {
  const mi = m.message(2);
  return { totalKiB: mi?.uint64(1) ?? 0n, freeKiB: mi?.uint64(2) ?? 0n, availableKiB: mi?.uint64(3) ?? 0n };
}

export interface MountStat {
  filesystem: string;
  size: bigint;
  available: bigint;
  mountedOn: string;
}

/** Mounts { repeated MountStat stats = 2 { filesystem = 1, size = 2, available = 3, mounted_on = 4 } }. */
export function decodeMounts(m: ProtoMessage): MountStat[] {
  return m.messages(2).map((s) => ({ filesystem: s.string(1), size: s.uint64(2), available: s.uint64(3), mountedOn: s.string(4) }));
}

export interface CosiResource {
  namespace: string;
  type: string;
  id: string;
  /** The spec as YAML, filled by the server (proto_spec is left alone: its schema differs per type). */
  yamlSpec: string;
}

/**
 * Resource { Metadata metadata = 1 { namespace = 1, type = 2, id = 3 }; Spec spec = 2 { yaml_spec = 2 } },
 * as found in field 1 of GetResponse and of each ListResponse.
 */
export function decodeResourceReply(m: ProtoMessage): CosiResource | undefined {
  const r = m.message(1);
  if (!r) return undefined;
  const md = r.message(1);
  return {
    namespace: md?.string(1) ?? '',
    type: md?.string(2) ?? '',
    id: md?.string(3) ?? '',
    yamlSpec: r.message(2)?.string(2) ?? '',
  };
}

/** common.Data { Metadata metadata = 1; bytes bytes = 2 }: one chunk of EtcdSnapshot's stream. */
export function decodeDataChunk(m: ProtoMessage): Buffer {
  return m.bytes(2) ?? Buffer.alloc(0);
}
