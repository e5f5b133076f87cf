// The read-only verbs: ping, info, osinfo, ips, fsinfo, time.
import { flattenInterfaces, guestTime } from '../../host/info.js';
import { isObject, type JsonObject } from '../../protocol/qga/json-value.js';
import { bytes, table } from '../output.js';
import { terminalSafe } from '../terminal-text.js';
import type { PerVmVerb } from './types.js';

const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

export const ping: PerVmVerb = {
  kind: 'per-vm',
  name: 'ping',
  usage: 'ping VM...',
  summary: 'check that the agent answers (guest-ping), with the round trip',
  trailing: 0,
  async one(conn, ctx) {
    const t0 = performance.now();
    await conn.call('guest-ping', undefined, { timeoutMs: ctx.timeoutMs });
    const ms = Math.round((performance.now() - t0) * 10) / 10;
    return { data: { ok: true, ms }, table: () => `ok (${ms} ms)\n`, summary: `ok ${ms} ms` };
  },
};

export const info: PerVmVerb = {
  kind: 'per-vm',
  name: 'info',
  usage: 'info VM...',
  summary: 'agent version and its commands (guest-info)',
  trailing: 0,
  async one(conn, ctx) {
    const r = await conn.call('guest-info', undefined, { timeoutMs: ctx.timeoutMs });
    const o = isObject(r) ? r : {};
    const cmds = list(o.supported_commands);
    const enabled = cmds.filter((c) => c.enabled === true).length;
    return {
      data: r,
      table: () =>
        `version: ${terminalSafe(str(o.version))}\n${table(
          ['COMMAND', 'ENABLED', 'SUCCESS-RESPONSE'],
          cmds.map((c) => [str(c.name), str(c.enabled), str(c['success-response'])]),
        )}`,
      summary: `version ${str(o.version)}, ${enabled}/${cmds.length} commands enabled`,
    };
  },
};

export const osinfo: PerVmVerb = {
  kind: 'per-vm',
  name: 'osinfo',
  usage: 'osinfo VM...',
  summary: 'operating system and kernel (guest-get-osinfo)',
  trailing: 0,
  async one(conn, ctx) {
    const r = await conn.call('guest-get-osinfo', undefined, { timeoutMs: ctx.timeoutMs });
    const o = isObject(r) ? r : {};
    return {
      data: r,
      table: () =>
        table(
          ['KEY', 'VALUE'],
          Object.entries(o).map(([k, v]) => [k, str(v)]),
        ),
      summary: str(o['pretty-name'] ?? o.name ?? o['kernel-release']),
    };
  },
};

export const ips: PerVmVerb = {
  kind: 'per-vm',
  name: 'ips',
  usage: 'ips VM...',
  summary: 'network interfaces and addresses (guest-network-get-interfaces)',
  trailing: 0,
  async one(conn, ctx) {
    const r = await conn.call('guest-network-get-interfaces', undefined, { timeoutMs: ctx.timeoutMs });
    const rows = flattenInterfaces(r);
    const global = rows.filter((a) => !/^(127\.|::1$|fe80)/i.test(a.ip)).map((a) => a.ip);
    return {
      data: r,
      table: () =>
        table(
          ['INTERFACE', 'MAC', 'ADDRESS'],
          rows.map((a) => [a.iface, a.mac, a.prefix !== undefined ? `${a.ip}/${a.prefix}` : a.ip]),
        ),
      summary: global.join(' ') || '(no global address)',
    };
  },
};

export const fsinfo: PerVmVerb = {
  kind: 'per-vm',
  name: 'fsinfo',
  usage: 'fsinfo VM...',
  summary: 'mounted filesystems with usage (guest-get-fsinfo)',
  trailing: 0,
  async one(conn, ctx) {
    const r = await conn.call('guest-get-fsinfo', undefined, { timeoutMs: ctx.timeoutMs });
    const fss = list(r);
    return {
      data: r,
      table: () =>
        table(
          ['MOUNTPOINT', 'TYPE', 'DEVICE', 'USED', 'TOTAL'],
          fss.map((f) => [str(f.mountpoint), str(f.type), str(f.name), bytes(f['used-bytes']), bytes(f['total-bytes'])]),
        ),
      summary: `${fss.length} filesystem(s)`,
    };
  },
};

export const time: PerVmVerb = {
  kind: 'per-vm',
  name: 'time',
  usage: 'time VM...',
  summary: "the guest's clock and its offset from this host's (guest-get-time)",
  trailing: 0,
  async one(conn, ctx) {
    const t = await guestTime(conn, { timeoutMs: ctx.timeoutMs });
    const offset = `${t.offsetMs >= 0 ? '+' : ''}${(t.offsetMs / 1000).toFixed(3)} s`;
    return {
      data: { ns: t.ns, iso: t.iso, offsetMs: Math.round(t.offsetMs) },
      table: () => table(['GUEST TIME', 'NANOSECONDS', 'OFFSET'], [[t.iso, t.ns.toString(), offset]]),
      summary: `${t.iso} (${offset})`,
    };
  },
};
