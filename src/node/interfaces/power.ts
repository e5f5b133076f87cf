// Power actions (guest-shutdown, guest-suspend-*), which the Kubernetes lifecycle wraps with a drain.
// One of the node interfaces (node/interfaces.ts re-exports them all).

export type ShutdownMode = 'powerdown' | 'halt' | 'reboot';

export type SuspendMode = 'disk' | 'ram' | 'hybrid';

/** Power actions. Resolves once the action is under way; rejects with the reason it cannot be done. */
export interface Power {
  /** Name for logs and guest-info ("dry-run", "logind", "openrc", "talos", ...). */
  readonly name: string;
  shutdown(mode: ShutdownMode): Promise<void>;
  suspend(mode: SuspendMode): Promise<void>;
  /**
   * True when the OS itself cordons and drains the Kubernetes node before this action (Talos's
   * Shutdown{force:false}); the Kubernetes lifecycle's `--drain auto` then leaves it to the OS.
   * Absent means false.
   */
  drainsItself?(mode: ShutdownMode): boolean;
}
