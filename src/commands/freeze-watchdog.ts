// guestlink's answer to "the host froze the guest and never thawed it" (qemu-ga has none): one timer
// that fires at a wall-clock deadline. unref()-ed, so it never keeps the agent alive; long delays are
// re-armed in steps because setTimeout caps at 2^31-1 ms.
const MAX_DELAY_MS = 2 ** 31 - 1;

/** A single cancellable deadline timer. */
export class FreezeWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private deadlineMs: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** The armed deadline (ms since the epoch), or undefined. */
  get deadline(): number | undefined {
    return this.deadlineMs;
  }

  /** Calls `fire` once at `deadlineMs` (at once if it has passed); replaces any earlier deadline. */
  arm(deadlineMs: number, fire: () => void): void {
    this.cancel();
    this.deadlineMs = deadlineMs;
    const step = () => {
      const left = deadlineMs - this.now();
      if (left <= 0) {
        this.timer = undefined;
        this.deadlineMs = undefined;
        fire();
        return;
      }
      this.timer = setTimeout(step, Math.min(left, MAX_DELAY_MS));
      this.timer.unref();
    };
    this.timer = setTimeout(step, Math.max(0, Math.min(deadlineMs - this.now(), MAX_DELAY_MS)));
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.deadlineMs = undefined;
  }
}
