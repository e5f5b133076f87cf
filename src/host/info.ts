// Typed views of the read-only QGA answers the verbs show (interfaces, time), shared by the CLI
// and the kubeconfig address pick.
import { isObject, type JsonValue } from '../protocol/qga/json-value.js';
import type { AgentConnection, CallOptions } from './connection.js';

export interface GuestAddress {
  iface: string;
  mac?: string;
  ip: string;
  prefix?: number;
  type: 'ipv4' | 'ipv6';
}

/** Flattens guest-network-get-interfaces into one row per address (loopback included; callers filter). */
export function flattenInterfaces(v: JsonValue): GuestAddress[] {
  const out: GuestAddress[] = [];
  for (const i of Array.isArray(v) ? v : []) {
    if (!isObject(i)) continue;
    for (const a of Array.isArray(i['ip-addresses']) ? i['ip-addresses'] : []) {
      if (!isObject(a) || typeof a['ip-address'] !== 'string') continue;
      out.push({
        iface: String(i.name),
        ...(typeof i['hardware-address'] === 'string' ? { mac: i['hardware-address'] } : {}),
        ip: a['ip-address'],
        ...(typeof a.prefix === 'number' ? { prefix: a.prefix } : {}),
        type: a['ip-address-type'] === 'ipv6' ? 'ipv6' : 'ipv4',
      });
    }
  }
  return out;
}

export async function guestAddresses(conn: AgentConnection, opts: CallOptions = {}): Promise<GuestAddress[]> {
  return flattenInterfaces(await conn.call('guest-network-get-interfaces', undefined, opts));
}

export interface GuestTime {
  /** Nanoseconds since the epoch, exact. */
  ns: bigint;
  iso: string;
  /** Guest minus host, in milliseconds (round trip halved). */
  offsetMs: number;
}

export async function guestTime(conn: AgentConnection, opts: CallOptions = {}): Promise<GuestTime> {
  const t0 = Date.now();
  const v = await conn.call('guest-get-time', undefined, opts);
  const t1 = Date.now();
  const ns = typeof v === 'bigint' ? v : BigInt(Number(v));
  const ms = Number(ns / 1_000_000n);
  return { ns, iso: new Date(ms).toISOString(), offsetMs: ms - (t0 + t1) / 2 };
}
