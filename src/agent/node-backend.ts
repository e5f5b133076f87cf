// The node back end the commands act through: generic Linux, or Talos when its socket or a
// talosconfig is found (node/select.ts decides), with the power back end --power asks for. Back
// ends load only when chosen: gRPC and YAML come only with Talos.
import path from 'node:path';
import type { Logger } from 'pino';
import { DryRunPower } from '../node/dry-run/power.js';
import type { NodeBackend, Power } from '../node/interfaces.js';
import type { Transport } from '../transport/types.js';
import { type AgentConfig, ConfigError } from './config.js';
import { appendPrivate } from './state.js';

/**
 * The transport, once it exists, for the reboot(2) power back end to hang up before the machine stops
 * (the node back end is made before the transport).
 */
export interface Channel {
  transport?: Transport;
}

/** The environment variables qemu-ga itself honours (TZ for the time zone, QGA_OS_RELEASE for tests). */
export interface QgaEnvironment {
  tz?: string;
  osReleasePath?: string;
}

/** Reads the QgaEnvironment from the process environment startAgent was given (nothing else reads it). */
export function qgaEnvironment(env: Readonly<Record<string, string | undefined>>): QgaEnvironment {
  const out: QgaEnvironment = {};
  if (env.TZ !== undefined) out.tz = env.TZ;
  if (env.QGA_OS_RELEASE) out.osReleasePath = env.QGA_OS_RELEASE;
  return out;
}

async function createPower(config: AgentConfig, log: Logger, channel: Channel): Promise<Power> {
  if (config.power === 'dry-run') {
    const file = path.join(config.statedir, 'guestlink-power.jsonl');
    return new DryRunPower((r) => {
      log.warn({ ...r, file }, 'dry-run power back end: request recorded, nothing done');
      // Never through a symlink planted at its name (the statedir is checked private at start-up, too).
      appendPrivate(file, `${JSON.stringify(r)}\n`);
    });
  }
  const { LinuxPower, detectPowerKind, nativeRebootSyscall } = await import('../node/linux/power.js');
  const kind = config.power === 'auto' ? detectPowerKind() : config.power;
  return new LinuxPower(kind, { rebootSyscall: nativeRebootSyscall(() => channel.transport?.hangUp?.()) });
}

/** The node back end the commands act through (generic Linux today; Talos when configured). */
export async function createNode(config: AgentConfig, log: Logger, env: QgaEnvironment, channel: Channel): Promise<NodeBackend> {
  // select.ts loads nothing heavy: gRPC and YAML come only with the Talos back end.
  const { chooseBackend } = await import('../node/select.js');
  const choice = chooseBackend(config);
  if (choice.backend === 'talos') {
    const { setupSocket, setupTalosconfig } = await import('../node/talos/setup.js');
    const { privilegeWarnings } = await import('../node/talos/privilege.js');
    let setup: ReturnType<typeof setupSocket>;
    try {
      setup = choice.via === 'socket' ? setupSocket(choice.socket, config) : setupTalosconfig(choice.file, config);
    } catch (err) {
      if ((err as { code?: string }).code === 'TALOS_CONFIG') throw new ConfigError((err as Error).message);
      throw err;
    }
    for (const w of privilegeWarnings(setup.facts, { etcdSnapshots: config.etcdSnapshotDir !== undefined }))
      log.warn({ talos: 'least-privilege' }, w);
    const { createTalosBackend } = await import('../node/talos/index.js');
    const node = createTalosBackend({
      target: setup.target,
      timeoutMs: config.talosTimeout * 1000,
      rebootMode: config.talosRebootMode,
      ...(setup.refresh ? { refresh: setup.refresh } : {}),
    });
    log.info(setup.describe, 'Talos back end');
    // dry-run keeps its promise on Talos too (record, never act); the Linux power kinds mean nothing here.
    if (config.power === 'dry-run') return { ...node, power: await createPower(config, log, channel) };
    if (config.power !== 'auto')
      log.warn({ power: config.power }, 'the Talos back end powers off through the Talos API; --power is ignored');
    return node;
  }
  const power = await createPower(config, log, channel);
  const { createLinuxBackend } = await import('../node/linux/index.js');
  return createLinuxBackend({ power, ...env });
}
