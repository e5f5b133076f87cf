// guest-fsfreeze-status/-freeze/-freeze-list/-thaw with qemu-ga 7.2's semantics (hook first, freeze in
// reverse mount order, frozen marker set before the first FIFREEZE, rollback on failure, thaw then
// hook), plus a watchdog qemu-ga lacks: after --fsfreeze-timeout seconds the agent thaws by itself.
import type { FreezeHookRunner } from '../node/interfaces.js';
import { errors } from '../protocol/qga/errors.js';
import type { AgentState, CommandContext, GroupHandlers } from './context.js';
import { snapshotBeforeFreeze, withSnapshotNote } from './freeze-etcd.js';
import { FreezeWatchdog } from './freeze-watchdog.js';

/** What freeze and thaw need of a command context (the watchdog has no session). */
export type FreezeContext = Pick<CommandContext, 'node' | 'state' | 'settings' | 'log'>;

export interface FreezeDeps {
  /** Runs the -F hook (node/linux/freeze-hook.ts in the agent; tests record calls). */
  runHook: FreezeHookRunner;
  /** Wall clock in ms (tests move it). */
  now?: () => number;
}

/** Key of the watchdog deadline (ms since the epoch) in the frozen marker's details. */
export const WATCHDOG_DEADLINE_KEY = 'watchdogDeadlineMs';

/** Freeze state machine shared by the handlers and the watchdog; operations run one at a time. */
export class FreezeController {
  private readonly runHook: FreezeHookRunner;
  private readonly now: () => number;
  private readonly watchdog: FreezeWatchdog;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(deps: FreezeDeps) {
    this.runHook = deps.runHook;
    this.now = deps.now ?? Date.now;
    this.watchdog = new FreezeWatchdog(this.now);
  }

  /** The armed watchdog deadline (ms since the epoch), if any. */
  get watchdogDeadline(): number | undefined {
    return this.watchdog.deadline;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Runs the hook when one is configured (qemu-ga: only with -F). */
  private async hook(ctx: FreezeContext, arg: 'freeze' | 'thaw'): Promise<void> {
    const hook = ctx.settings.fsfreezeHook;
    if (!hook) return;
    ctx.log.info({ hook, arg }, 'executing fsfreeze hook');
    await this.runHook(hook, arg);
  }

  /** guest-fsfreeze-freeze(-list): returns how many filesystems were frozen. */
  freeze(ctx: FreezeContext, command: string, mountpoints?: readonly string[]): Promise<number> {
    let etcd: Awaited<ReturnType<typeof snapshotBeforeFreeze>>;
    return this.serial(async () => {
      if (ctx.state.frozen) throw errors.commandDisabled(command, errors.frozen());
      etcd = await snapshotBeforeFreeze(ctx, command);
      await this.hook(ctx, 'freeze');
      const mounts = await ctx.node.storage.freezableMounts();
      const wanted = mountpoints ? new Set(mountpoints) : undefined;
      const timeout = ctx.settings.fsfreezeTimeout;
      const deadline = timeout > 0 ? this.now() + timeout * 1000 : undefined;
      // Marked before the first FIFREEZE: the agent must not write to a frozen filesystem, even after a crash.
      await (ctx.state as AgentState).setFrozen(true, deadline !== undefined ? { [WATCHDOG_DEADLINE_KEY]: deadline } : {});
      const frozen: string[] = [];
      try {
        for (const mp of [...mounts].reverse()) {
          if (wanted && !wanted.has(mp)) continue;
          const r: unknown = await ctx.node.storage.freeze(mp);
          if (r !== false) frozen.push(mp); // false: EOPNOTSUPP/EBUSY, not counted (qemu-ga)
        }
      } catch (err) {
        await this.rollback(ctx, frozen);
        throw err;
      }
      if (frozen.length === 0) {
        // qemu-ga unsets the frozen state when nothing was frozen; the thaw hook undoes the freeze hook.
        await ctx.state.setFrozen(false);
        await this.hook(ctx, 'thaw').catch((err: unknown) => ctx.log.warn({ err }, 'fsfreeze thaw hook failed'));
        return 0;
      }
      if (deadline !== undefined) this.armWatchdog(ctx, deadline);
      // No logging from here until the thaw: the log file may be on a frozen filesystem (qemu-ga
      // disables its logging while frozen for the same reason).
      return frozen.length;
    }).catch((err: unknown) => {
      throw withSnapshotNote(err, etcd);
    });
  }

  /** Undoes a failed freeze: thaw what was frozen, clear the state, run the thaw hook. */
  private async rollback(ctx: FreezeContext, frozen: readonly string[]): Promise<void> {
    const failures: unknown[] = [];
    for (const mp of [...frozen].reverse()) {
      try {
        await ctx.node.storage.thaw(mp);
      } catch (err) {
        failures.push({ mountpoint: mp, err });
      }
    }
    await ctx.state.setFrozen(false);
    if (failures.length > 0) ctx.log.error({ failures }, 'thaw after a failed freeze failed');
    await this.hook(ctx, 'thaw').catch((err: unknown) => ctx.log.warn({ err }, 'fsfreeze thaw hook failed'));
  }

  /** guest-fsfreeze-thaw: thaw every freezable filesystem, clear the state, then run the thaw hook. */
  thaw(ctx: FreezeContext): Promise<number> {
    return this.serial(() => this.doThaw(ctx));
  }

  private async doThaw(ctx: FreezeContext): Promise<number> {
    this.watchdog.cancel();
    let count = 0;
    const failures: unknown[] = [];
    for (const mp of await ctx.node.storage.freezableMounts()) {
      try {
        const r: unknown = await ctx.node.storage.thaw(mp);
        if (r !== false) count++; // false: it was not frozen
      } catch (err) {
        failures.push({ mountpoint: mp, err });
      }
    }
    await ctx.state.setFrozen(false);
    if (failures.length > 0) ctx.log.error({ failures }, 'thaw failed');
    await this.hook(ctx, 'thaw');
    return count;
  }

  private armWatchdog(ctx: FreezeContext, deadline: number): void {
    this.watchdog.arm(deadline, () => {
      void this.serial(async () => {
        if (!ctx.state.frozen) return;
        try {
          const n = await this.doThaw(ctx);
          ctx.log.warn(
            { thawed: n, timeoutSeconds: ctx.settings.fsfreezeTimeout },
            'fsfreeze watchdog: the host did not thaw in time; thawed by the agent',
          );
        } catch (err) {
          ctx.log.warn({ err }, 'fsfreeze watchdog: filesystems thawed, but the thaw hook failed');
        }
      });
    });
  }

  /**
   * After a restart: if the frozen marker is set, re-arm the watchdog at its saved deadline (or, when none
   * was saved, fsfreezeTimeout from now; none at all when that is 0 as well: frozen until the host thaws).
   * Returns the deadline armed, if any. Logs nothing: the filesystems may still be frozen.
   */
  async resume(ctx: FreezeContext): Promise<number | undefined> {
    if (!ctx.state.frozen) return undefined;
    const details = await (ctx.state as AgentState).frozenDetails?.();
    const saved = details?.[WATCHDOG_DEADLINE_KEY];
    let deadline = typeof saved === 'number' && Number.isFinite(saved) ? saved : undefined;
    if (deadline === undefined && ctx.settings.fsfreezeTimeout > 0) deadline = this.now() + ctx.settings.fsfreezeTimeout * 1000;
    if (deadline === undefined) return undefined;
    this.armWatchdog(ctx, deadline);
    return deadline;
  }

  /** Stops the watchdog (agent shutdown, tests). */
  stop(): void {
    this.watchdog.cancel();
  }
}

/** The four handlers bound to one controller (the agent makes one controller; tests make their own). */
export function createFreezeHandlers(controller: FreezeController): GroupHandlers<'freeze'> {
  return {
    'guest-fsfreeze-status': (_a, ctx) => (ctx.state.frozen ? 'frozen' : 'thawed'),
    'guest-fsfreeze-freeze': (_a, ctx) => controller.freeze(ctx, 'guest-fsfreeze-freeze'),
    'guest-fsfreeze-freeze-list': (args: { mountpoints?: string[] }, ctx) =>
      controller.freeze(ctx, 'guest-fsfreeze-freeze-list', args.mountpoints),
    'guest-fsfreeze-thaw': (_a, ctx) => controller.thaw(ctx),
  };
}
