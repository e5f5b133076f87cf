// How a running rollout looks: on a terminal, one line per node (phase, elapsed, what it waits
// for) redrawn in place every second, with the gate under it; elsewhere, one plain line per
// change, so logs stay readable; -q shows nothing. Everything shown is escaped (names come from
// guests and API servers).
import { formatDuration, printable, type RolloutEvent } from '../../host/rollout/index.js';

interface Line {
  node: string;
  role: string;
  phase: string;
  since: number;
  detail: string;
}

/** The live per-node lines on stderr. */
export class Board {
  private readonly lines = new Map<string, Line>();
  private gate = '';
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly enabled: boolean,
  ) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  /** Takes one event; redraws (terminal) or prints a line (otherwise). */
  show(ev: RolloutEvent): void {
    if (!this.enabled) return;
    if (ev.event === 'plan') {
      for (const n of ev.batches.flat())
        this.lines.set(n.node, {
          node: n.node,
          role: n.controlPlane ? 'control-plane' : 'worker',
          phase: n.status,
          since: Date.now(),
          detail: '',
        });
      if (this.tty) this.timer = setInterval(() => this.draw(), 1000);
      return;
    }
    if (ev.event === 'phase') {
      const l = this.lines.get(ev.node);
      if (l) Object.assign(l, { phase: ev.phase, since: Date.now() - ev.elapsedMs, detail: ev.detail ?? '' });
      if (!this.tty)
        this.out.write(
          `${printable(ev.node)}: ${ev.phase}${ev.elapsedMs ? ` (${formatDuration(ev.elapsedMs)})` : ''}${ev.detail ? `: ${printable(ev.detail, 300)}` : ''}\n`,
        );
    } else if (ev.event === 'gate') {
      const bad = ev.checks.filter((c) => !c.ok);
      this.gate = `${ev.gate}-gate batch ${ev.batch + 1}: ${ev.ok ? 'ok' : `${ev.waiting ? 'waiting: ' : ''}${bad.map((c) => `${c.name}: ${c.detail}`).join('; ')}`}`;
      if (!this.tty) this.out.write(`${printable(this.gate, 600)}\n`);
    } else if (ev.event === 'interrupt') {
      if (!this.tty) this.out.write(`${ev.message}\n`);
      else this.gate = ev.message;
    } else if (ev.event === 'end') this.stop();
    if (this.tty) this.draw();
  }

  private draw(): void {
    const w = Math.max(20, (this.out.columns ?? 100) - 1);
    const nameW = Math.min(30, Math.max(4, ...[...this.lines.keys()].map((n) => printable(n).length)));
    const rows = [...this.lines.values()].map((l) => {
      const elapsed = l.phase === 'pending' || l.phase === 'done' ? '' : formatDuration(Date.now() - l.since);
      return `${printable(l.node).padEnd(nameW)}  ${l.role.padEnd(13)}  ${l.phase.padEnd(10)}  ${elapsed.padStart(6)}  ${printable(l.detail, 200)}`.slice(
        0,
        w,
      );
    });
    if (this.gate) rows.push(printable(this.gate, 600).slice(0, w));
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const r of rows) s += `\r\x1b[K${r}\n`;
    this.out.write(s);
    this.drawn = rows.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
