// The qemu-ga-equivalent power back end: runs the OS's shutdown command, as qemu-ga does
// (`shutdown -h -P|-H|-r +0 "hypervisor initiated shutdown"`), falling back to busybox-style
// poweroff/halt/reboot where no shutdown(8) exists (Alpine/OpenRC). No shell is involved.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { genericError } from '../../protocol/qga/errors.js';
import type { Power, ShutdownMode, SuspendMode } from '../interfaces.js';

const SBIN = ['/sbin', '/usr/sbin', '/bin', '/usr/bin'];

function which(name: string): string | undefined {
  for (const dir of SBIN) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {}
  }
  return undefined;
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore' });
    child.on('error', (err) => reject(genericError(`failed to run ${file}: ${err.message}`, 'POWER_FAILED')));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(genericError('child process has failed to shutdown', 'POWER_FAILED'));
      void signal;
    });
  });
}

export class ShutdownCommandPower implements Power {
  readonly name = 'shutdown-command';

  async shutdown(mode: ShutdownMode): Promise<void> {
    const shutdown = which('shutdown');
    if (shutdown) {
      const flag = mode === 'halt' ? '-H' : mode === 'reboot' ? '-r' : '-P';
      return run(shutdown, ['-h', flag, '+0', 'hypervisor initiated shutdown']);
    }
    const tool = which(mode === 'powerdown' ? 'poweroff' : mode);
    if (!tool) throw genericError(`no shutdown, poweroff, halt or reboot command found for ${mode}`, 'POWER_UNAVAILABLE');
    return run(tool, []);
  }

  async suspend(mode: SuspendMode): Promise<void> {
    throw genericError(
      `suspend-${mode} is not supported on this node: a Kubernetes node should be drained and shut down instead`,
      'UNSUPPORTED',
    );
  }
}
