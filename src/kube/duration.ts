// Durations as Kubernetes users write them (kubectl drain --timeout=90s, Go's time.Duration):
// "50s", "9m30s", "1h", "500ms"; a bare number is seconds, as the agent's other timeouts are.
// Also used by agent/config.ts to refuse a malformed --drain-timeout at start-up.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Milliseconds for a duration text, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  if (s === '') return undefined;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== at) return undefined;
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** "1m30s" for 90000: for messages and events. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}
