// Parsers for /proc/stat, /proc/diskstats and /proc/loadavg, mirroring qemu-ga's sscanf-based readers
// field for field (which lines count, which members are present for which kernel formats).
import type { CpuStats, DiskStats, LoadAverage } from '../interfaces.js';

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux ABI (sysconf(_SC_CLK_TCK)); qemu-ga reports ms. */
export const CLK_TCK = 100;

const U32 = 2n ** 32n;
const U64 = 2n ** 64n;

/** An unsigned decimal as sscanf %lu/%u stores it (wrapping), as number when exact, else bigint; undefined if not a number. */
function unsigned(tok: string | undefined, bits: 32 | 64): number | bigint | undefined {
  if (tok === undefined) return undefined;
  const m = /^([+-]?)(\d+)/.exec(tok);
  if (!m) return undefined;
  let v = BigInt(m[2] as string);
  if (m[1] === '-') v = -v;
  v = ((v % (bits === 32 ? U32 : U64)) + (bits === 32 ? U32 : U64)) % (bits === 32 ? U32 : U64);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Scans tokens with a list of conversions, stopping at the first that fails; returns the values (sscanf's count is its length). */
function scan(line: string, conv: readonly ('s' | 'u' | 'lu')[]): (string | number | bigint)[] {
  const toks = line
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
  const out: (string | number | bigint)[] = [];
  for (let i = 0; i < conv.length; i++) {
    const tok = toks[i];
    if (tok === undefined) break;
    const c = conv[i];
    if (c === 's') {
      out.push(tok);
      continue;
    }
    const v = unsigned(tok, c === 'u' ? 32 : 64);
    if (v === undefined) break;
    out.push(v);
  }
  return out;
}

const CPU_CONV = ['s', 'lu', 'lu', 'lu', 'lu', 'lu', 'lu', 'lu', 'lu', 'lu', 'lu'] as const;

/** Per-CPU lines ("cpuN ...", not the "cpu" total) in milliseconds, with the members the kernel's format has. */
export function parseProcStat(text: string, clkTck = CLK_TCK): CpuStats[] {
  const out: CpuStats[] = [];
  const ms = (v: number | bigint | string | undefined) => Math.floor((Number(v) * 1000) / clkTck);
  for (const line of text.split('\n')) {
    const f = scan(line, CPU_CONV);
    const name = f[0];
    if (typeof name !== 'string' || !name.startsWith('cpu') || name.length === 3) continue;
    const i = f.length;
    if (i < 5) break; // qemu-ga logs "Parsing cpu stat ... failed" and stops
    const s: CpuStats = { cpu: Number.parseInt(name.slice(3), 10) || 0, user: ms(f[1]), nice: ms(f[2]), system: ms(f[3]), idle: ms(f[4]) };
    if (i > 5) s.iowait = ms(f[5]);
    if (i > 6) s.irq = ms(f[6]);
    if (i > 7) s.softirq = ms(f[7]); // qemu-ga sets it from i > 6, reading an unset variable when i == 7
    if (i > 8) s.steal = ms(f[8]);
    if (i > 9) s.guest = ms(f[9]);
    if (i > 10) s.guestnice = ms(f[10]);
    out.push(s);
  }
  return out;
}

// major minor name, then 17 counters with qemu-ga's C types: ticks and in-flight are unsigned int (%u), the rest %lu.
const DISK_CONV = ['u', 'u', 's', 'lu', 'lu', 'lu', 'lu', 'lu', 'lu', 'lu', 'u', 'u', 'u', 'u', 'lu', 'lu', 'lu', 'u', 'lu', 'u'] as const;

/** Every /proc/diskstats line with at least the 4-counter (old partition) format, stats named as GuestDiskStats in camelCase. */
export function parseDiskstats(text: string): DiskStats[] {
  const out: DiskStats[] = [];
  for (const line of text.split('\n')) {
    const f = scan(line, DISK_CONV);
    const i = f.length;
    if (i < 7) continue;
    const stats: Record<string, number | bigint> = {};
    const n = (k: number) => f[k] as number | bigint;
    if (i === 7) {
      stats.readIos = n(3);
      stats.readSectors = n(4);
      stats.writeIos = n(5);
      stats.writeSectors = n(6);
    }
    if (i >= 14) {
      Object.assign(stats, {
        readIos: n(3),
        readMerges: n(4),
        readSectors: n(5),
        readTicks: n(6),
        writeIos: n(7),
        writeMerges: n(8),
        writeSectors: n(9),
        writeTicks: n(10),
        iosPgr: n(11),
        totalTicks: n(12),
        weightTicks: n(13),
      });
    }
    if (i >= 18) Object.assign(stats, { discardIos: n(14), discardMerges: n(15), discardSectors: n(16), discardTicks: n(17) });
    if (i >= 20) Object.assign(stats, { flushIos: n(18), flushTicks: n(19) });
    out.push({ name: f[2] as string, major: Number(f[0]), minor: Number(f[1]), stats });
  }
  return out;
}

/** The three load averages of /proc/loadavg. */
export function parseLoadavg(text: string): LoadAverage {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  if (![a, b, c].every((x) => typeof x === 'number' && Number.isFinite(x))) throw new Error(`unexpected /proc/loadavg: ${text.trim()}`);
  return { load1m: a as number, load5m: b as number, load15m: c as number };
}
