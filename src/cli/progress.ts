// A live status line on stderr when it is a terminal (redrawn in place), and sparse plain lines
// when it is not, so logs stay readable. The text may hold a guest's words: it is shown escaped.
import { terminalSafe } from './terminal-text.js';

export class ProgressLine {
  private last = 0;
  private shown = false;
  private readonly frames = ['|', '/', '-', '\\'];
  private frame = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly enabled: boolean,
    /** Without a terminal, print at most one line per this many ms. */
    private readonly plainEveryMs = 10_000,
  ) {}

  get tty(): boolean {
    return Boolean(this.stream.isTTY);
  }

  /** Shows `text` (with a spinner on a terminal). `force` prints even when rate-limited. */
  update(raw: string, force = false): void {
    if (!this.enabled) return;
    const text = terminalSafe(raw);
    if (this.tty) {
      this.frame = (this.frame + 1) % this.frames.length;
      this.stream.write(`\r\x1b[K${this.frames[this.frame]} ${text}`);
      this.shown = true;
      return;
    }
    const now = Date.now();
    if (force || now - this.last >= this.plainEveryMs) {
      this.last = now;
      this.stream.write(`${text}\n`);
    }
  }

  /** Clears the line (terminal) so the next output starts clean. */
  done(): void {
    if (this.shown && this.tty) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
