// Ctrl-C during a rollout: the first one asks to stop at the next safe point (the nodes in flight
// back, uncordoned and settled), the second one to stop waiting at once (the nodes in flight are
// left as they are; the state file says where each stands, so --resume picks them up).
export class Interrupt {
  level = 0;
  private wakers = new Set<() => void>();

  /** Records one more request to stop; returns the new level. */
  raise(): number {
    this.level++;
    for (const w of this.wakers) w();
    this.wakers.clear();
    return this.level;
  }

  /** True once the user asked twice: stop waiting now. */
  get now(): boolean {
    return this.level >= 2;
  }

  /** Sleeps `ms`, or less when an interrupt arrives meanwhile. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      this.wakers.add(done);
    });
  }
}
