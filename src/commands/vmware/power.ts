// OS_Halt / OS_Reboot / OS_PowerOn / OS_Resume / OS_Suspend: vSphere's "Shut Down Guest", "Restart
// Guest" and the power-state notifications. The reply is `OK `; the VMX then learns from
// `tools.os.statechange.status <1|0> <state>` whether the guest takes the action. The action itself goes
// through the node's Power (Talos API, logind, ...; with the Kubernetes drain when configured) and starts
// only after the OK went out, so the VMX hears the answer before the guest goes down; a drain can take
// minutes, which the TCLO loop must not wait for.
import type { Power, ShutdownMode } from '../../node/interfaces.js';
import { stateChangeStatus } from '../../protocol/vmware/rpci.js';
import { POWER_STATE, type PowerCommandName } from '../../protocol/vmware/tclo.js';
import type { VmwareLog } from './log.js';
import type { RpciClient } from './rpci-client.js';
import type { TcloService } from './service.js';

export interface PowerOptions {
  /** Absent: the agent may not act on power; the VMX hears status 0 for halt and reboot (govmomi: no handler). */
  power?: Power;
  /**
   * What OS_Halt asks of the node. Default 'powerdown': vmtoolsd runs `shutdown -h now`, which powers the
   * machine off on systemd and busybox; a CPU halted without power-off would leave vSphere waiting.
   */
  haltMode?: ShutdownMode;
}

export function registerPowerCommands(service: TcloService, rpci: RpciClient, log: VmwareLog, opts: PowerOptions): void {
  const report = (ok: boolean, state: number) =>
    rpci.tryRequest(stateChangeStatus(ok, state), (err) =>
      log.warn({ state, err: err.message }, 'VMware: cannot report the power state change'),
    );
  const actions: Partial<Record<PowerCommandName, ShutdownMode>> = {
    OS_Halt: opts.haltMode ?? 'powerdown',
    OS_Reboot: 'reboot',
  };
  for (const name of Object.keys(POWER_STATE) as PowerCommandName[]) {
    const state = POWER_STATE[name];
    const mode = actions[name];
    service.register(name, async () => {
      log.info({ command: name }, 'VMware: power operation from the host');
      if (!mode) {
        // Power-on, resume and suspend are notifications: nothing to run, report done.
        await report(true, state);
        return undefined;
      }
      const power = opts.power;
      if (!power) {
        await report(false, state);
        return undefined;
      }
      await report(true, state);
      service.runAfterReply(() => {
        power.shutdown(mode).then(
          () => log.info({ command: name, mode, power: power.name }, 'VMware: power action under way'),
          (err: unknown) => {
            log.warn({ command: name, mode, err: String(err) }, 'VMware: power action failed');
            void report(false, state);
          },
        );
      });
      return undefined;
    });
  }
}
