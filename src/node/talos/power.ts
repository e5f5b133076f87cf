// Power through Talos: machined sequences the shutdown or reboot itself (stopping services, and for
// Shutdown{force:false} cordoning and draining the Kubernetes node first), which is why the
// hypervisor's request must go through the API and never to an init or reboot(2).
import { errors } from '../../protocol/qga/errors.js';
import type { Power, ShutdownMode, SuspendMode } from '../interfaces.js';
import type { TalosApi } from './api.js';
import { encodeRebootRequest, encodeShutdownRequest, METHODS, type RebootMode } from './messages.js';

export class TalosPower implements Power {
  readonly name = 'talos';

  constructor(
    private readonly api: TalosApi,
    /** default (kexec when Talos has it enabled) or powercycle (a full firmware reboot). */
    private readonly rebootMode: RebootMode = 'default',
  ) {}

  /**
   * powerdown and halt -> Shutdown{force:false}: Talos has no halt-without-poweroff, and force:false
   * is the one that cordons and drains. reboot -> Reboot{mode}; Talos never drains on Reboot (FORCE
   * is never sent: it skips stopping pods).
   */
  async shutdown(mode: ShutdownMode): Promise<void> {
    if (mode === 'reboot') await this.api.unary(METHODS.reboot, encodeRebootRequest(this.rebootMode));
    else await this.api.unary(METHODS.shutdown, encodeShutdownRequest(false));
  }

  async suspend(_mode: SuspendMode): Promise<void> {
    throw errors.unsupported('Talos has no suspend; use guest-shutdown');
  }

  drainsItself(mode: ShutdownMode): boolean {
    return mode !== 'reboot';
  }
}
