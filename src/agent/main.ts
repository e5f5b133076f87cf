// The composition root: the only module that wires transport, dispatcher, commands and back ends.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CommandSettings } from '../commands/context.js';
import { neverAllowedEnv } from '../commands/exec-env.js';
import { parseExecRule } from '../commands/exec-rules.js';
import { ExecTable } from '../commands/exec-table.js';
import { FileTable } from '../commands/file-table.js';
import { FreezeController } from '../commands/freeze.js';
import { createHandlers } from '../commands/index.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { CommandPolicy } from '../dispatch/policy.js';
import type { KubeLifecycle } from '../kube/index.js';
import { DryRunPower } from '../node/dry-run/power.js';
import type { NodeBackend, Power } from '../node/interfaces.js';
import { runFsfreezeHook } from '../node/linux/freeze-hook.js';
import { ChildProcessRunner } from '../node/linux/process-runner.js';
import { COMMAND_NAMES, type OptInGroup } from '../protocol/qga/commands.js';
import { jsonLimits, maxMessageCharge } from '../protocol/qga/json-stream.js';
import type { Transport } from '../transport/types.js';
import { VERSION } from '../version.js';
import { type AgentConfig, ConfigError, dumpConfig, helpText, loadConfig } from './config.js';
import { withEtcdSnapshots } from './etcd.js';
import { createLogger } from './log.js';
import { connectionRefusal, serve } from './serve.js';
import { appendPrivate, FileAgentState } from './state.js';

async function createTransport(config: AgentConfig, log: Logger): Promise<Transport> {
  switch (config.method) {
    case 'unix-listen': {
      const { UnixListenTransport } = await import('../transport/unix-listen.js');
      return new UnixListenTransport(config.path, {
        maxConnections: config.maxConnections,
        refusal: connectionRefusal(config.maxConnections),
        maxQueuedBytes: config.maxQueuedReplyBytes,
        log: log.child({ transport: config.method }),
      });
    }
    case 'virtio-serial':
    case 'isa-serial': {
      const { SerialPortTransport } = await import('../transport/serial-port.js');
      // With the native addon the kernel wakes the event loop (data, host attach/detach) instead of polling.
      const { nativeReadiness } = await import('../native/addon.js');
      return new SerialPortTransport(config.path, {
        kind: config.method,
        retry: config.retryPath,
        log: log.child({ transport: config.method }),
        readiness: nativeReadiness(),
        maxQueuedBytes: config.maxQueuedReplyBytes,
      });
    }
    default:
      // loadConfig already refused it with the reason.
      throw new ConfigError(`method ${config.method} is not supported`);
  }
}

/**
 * The transport, once it exists, for the reboot(2) power back end to hang up before the machine stops
 * (the node back end is made before the transport).
 */
interface Channel {
  transport?: Transport;
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

/** The environment variables qemu-ga itself honours (TZ for the time zone, QGA_OS_RELEASE for tests). */
interface QgaEnvironment {
  tz?: string;
  osReleasePath?: string;
}

/** The node back end the commands act through (generic Linux today; Talos when configured). */
async function createNode(config: AgentConfig, log: Logger, env: QgaEnvironment, channel: Channel): Promise<NodeBackend> {
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

/**
 * Kubernetes awareness around the back end (drain before a hypervisor-initiated power action,
 * uncordon on return). Returns the back end unchanged when no cluster is configured.
 */
async function withKubernetes(
  config: AgentConfig,
  backend: NodeBackend,
  log: Logger,
): Promise<{ node: NodeBackend; kube?: KubeLifecycle }> {
  if (config.kube === 'off') return { node: backend };
  // Deciding costs one small module; the client, drain and YAML parser load only for a cluster.
  const { detectKubeMode, serviceAddress } = await import('../kube/detect.js');
  const settings = {
    kube: config.kube,
    kubeconfig: config.kubeconfig,
    kubeconfigEnv: config.kubeconfigEnv,
    nodeName: config.nodeName ?? config.nodeNameEnv,
    serviceAddress: serviceAddress(config.kubernetesServiceHost, config.kubernetesServicePort),
  };
  const mode = detectKubeMode(settings);
  if (!mode) return { node: backend };
  const { enableKubernetes, KubeError } = await import('../kube/index.js');
  try {
    const lifecycle = await enableKubernetes(
      mode,
      backend,
      { ...settings, drain: config.drain, drainTimeout: config.drainTimeout, drainOnTimeout: config.drainOnTimeout },
      log,
    );
    return { node: lifecycle.backend, kube: lifecycle };
  } catch (err) {
    // A cluster was asked for but cannot be used: refuse to start rather than power off undrained.
    if (err instanceof KubeError) throw new ConfigError(`Kubernetes: ${err.message}`);
    throw err;
  }
}

/** Front ends besides QGA (VMware guest RPC); each returns how to stop it. */
async function startOtherFrontEnds(config: AgentConfig, node: NodeBackend, log: Logger): Promise<(() => Promise<void>)[]> {
  // VMware guest RPC: auto starts it only where CPUID says VMware (elsewhere the backdoor faults, and
  // nothing is loaded beyond the addon); an explicit vsock/backdoor that cannot start stops the agent.
  if (config.vmware === 'off') return [];
  const vlog = log.child({ frontEnd: 'vmware' });
  const explicit = config.vmware !== 'auto';
  const { selectChannels, vmwareUnavailableReason } = await import('../transport/vmware/select.js');
  const unavailable = vmwareUnavailableReason(process.arch);
  if (unavailable) {
    if (explicit) throw new ConfigError(`--vmware ${config.vmware}: ${unavailable}; use --vmware off`);
    vlog.debug({ reason: unavailable }, 'VMware front end off');
    return [];
  }
  const { loadNative } = await import('../native/addon.js');
  const native = loadNative();
  if (!native?.hypervisorVendor) {
    if (explicit) throw new ConfigError(`--vmware ${config.vmware} needs the native addon (npm run build:native)`);
    vlog.debug({}, 'VMware front end off: the native addon is not built');
    return [];
  }
  const picked = await selectChannels(native, config.vmware);
  if ('reason' in picked) {
    if (explicit) throw new ConfigError(`--vmware ${config.vmware}: ${picked.reason}`);
    vlog.debug({ reason: picked.reason }, 'VMware front end off');
    return [];
  }
  const { createVmwareFrontEnd } = await import('../commands/vmware/index.js');
  const { uptime } = await import('node:os');
  const fe = createVmwareFrontEnd(picked.channels.tclo, picked.channels.rpci, {
    system: node.system,
    network: node.network,
    // node.power carries the Kubernetes drain when configured: vSphere's buttons get it too.
    power: node.power,
    uptimeSeconds: uptime,
    version: VERSION,
    log: vlog,
  });
  try {
    await fe.start();
  } catch (err) {
    if (explicit) throw new ConfigError(`--vmware ${config.vmware}: the guest RPC channels do not open: ${String(err)}`);
    vlog.warn({ err: String(err), transport: picked.channels.transport }, 'VMware detected, but the guest RPC channels do not open');
    return [];
  }
  vlog.info({ transport: picked.channels.transport }, 'VMware guest RPC front end started');
  return [() => fe.stop()];
}

function settingsFrom(config: AgentConfig): CommandSettings {
  return {
    allowExec: config.allowExec.map(parseExecRule),
    execSearchPath: config.execPath,
    // Never-allowed names were warned about at start-up; leaving them out here keeps them out for good.
    allowExecEnv: config.allowExecEnv.filter((name) => !neverAllowedEnv(name)),
    // --etcd-snapshot-on-demand lets guest-file-open read the snapshot directory (and nothing more).
    allowFileRead:
      config.etcdSnapshotOnDemand && config.etcdSnapshotDir
        ? [...config.allowFileRead, `${config.etcdSnapshotDir.replace(/\/+$/, '')}/`]
        : config.allowFileRead,
    allowFileWrite: config.allowFileWrite,
    allowFileHardlinks: config.allowFileHardlinks,
    fsfreezeHook: config.fsfreezeHook,
    fsfreezeTimeout: config.fsfreezeTimeout,
    etcdSnapshotRequired: config.etcdSnapshotRequired,
    hideVirtualInterfaces: config.hideVirtualInterfaces,
    hideInterfacesWithoutAddresses: config.hideInterfacesWithoutAddresses,
  };
}

/** The groups whose off-by-default commands the configuration turns on (OPT_IN_GROUPS in the table). */
function optInGroups(config: AgentConfig): OptInGroup[] {
  const etcdOnDemand = config.etcdSnapshotOnDemand && config.etcdSnapshotDir !== undefined;
  const on: Record<OptInGroup, boolean> = {
    exec: config.allowExec.length > 0,
    file: config.allowFileRead.length > 0 || config.allowFileWrite.length > 0,
    accounts: config.allowAccountChanges,
    authenticate: config.listen !== undefined && config.listenTokens,
    etcd: etcdOnDemand,
  };
  return (Object.keys(on) as OptInGroup[]).filter((g) => on[g]);
}

export interface RunningAgent {
  config: AgentConfig;
  close(): Promise<void>;
}

/** Starts the agent from command-line arguments and environment; returns once it is serving. */
export async function startAgent(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<RunningAgent | undefined> {
  const { config, action, warnings } = loadConfig(argv, env);
  switch (action) {
    case 'help':
      process.stdout.write(helpText('guestlink-agent'));
      return undefined;
    case 'version':
      process.stdout.write(`guestlink-agent ${VERSION}\n`);
      return undefined;
    case 'dump-conf':
      process.stdout.write(dumpConfig(config));
      return undefined;
    case 'list-rpcs':
      process.stdout.write(`${COMMAND_NAMES.join('\n')}\n`);
      return undefined;
  }
  const state = new FileAgentState(config.statedir);
  const { log, destination } = createLogger({
    verbose: config.verbose,
    isFrozen: () => state.frozen,
    ...(config.logfile ? { logfile: config.logfile } : {}),
  });
  for (const w of warnings) log.warn(w);
  await state.load();
  const qgaEnv: QgaEnvironment = {};
  if (env.TZ !== undefined) qgaEnv.tz = env.TZ;
  if (env.QGA_OS_RELEASE) qgaEnv.osReleasePath = env.QGA_OS_RELEASE;
  const channel: Channel = {};
  const { node, kube } = await withKubernetes(
    config,
    await withEtcdSnapshots(config, await createNode(config, log, qgaEnv, channel), log),
    log,
  );
  // The management endpoint (--listen): its authorize step goes into the dispatcher; nothing loads without it.
  const endpoint = config.listen ? await (await import('./endpoint.js')).prepareEndpoint(config, kube, node, log) : undefined;
  const policy = new CommandPolicy({
    allowRpcs: config.allowRpcs,
    blockRpcs: config.blockRpcs,
    optInGroups: optInGroups(config),
    unsupported: node.unsupportedCommands,
  });
  // The state the stateful commands keep, one of each per agent; close() below ends what needs ending.
  // guest-file-* handles are shared by all connections and bounded by --max-file-handles.
  const files = new FileTable(config.maxFileHandles);
  const exec = new ExecTable(new ChildProcessRunner(), {
    maxProcesses: config.maxExecProcesses,
    maxOutputBytes: config.maxExecOutputBytes,
    maxInputBytes: config.maxExecInputBytes,
  });
  const freeze = new FreezeController({ runHook: runFsfreezeHook });
  const settings = settingsFrom(config);
  const dispatcher = new Dispatcher({
    version: VERSION,
    handlers: createHandlers({ files, exec, freeze }),
    policy,
    node,
    state,
    settings,
    log,
    audit: log.child({ audit: true }),
    ...(endpoint ? { authorize: endpoint.authorize } : {}),
  });
  // A restart while frozen keeps the filter on and re-arms the thaw watchdog at its saved deadline.
  if (state.frozen) await freeze.resume({ node, state, settings, log });
  const stopFrontEnds = await startOtherFrontEnds(config, node, log);
  const transport = await createTransport(config, log);
  channel.transport = transport;
  const limits = jsonLimits(config.maxRequestBytes);
  await serve(transport, dispatcher, log, { limits, maxBufferedBytes: config.maxBufferedRequestBytes ?? maxMessageCharge(limits) });
  await endpoint?.start(dispatcher, jsonLimits(config.listenMaxRequestBytes));
  if (config.pidfile) writeFileSync(config.pidfile, `${process.pid}\n`);
  log.info(
    { method: config.method, path: config.path, version: VERSION, node: node.name, power: node.power.name, fileOpen: node.files.method },
    'guestlink agent ready',
  );
  return {
    config,
    close: async () => {
      for (const stop of stopFrontEnds) await stop();
      await transport.close();
      await endpoint?.close();
      freeze.stop();
      await files.closeAll();
      await node.close?.();
      destination.flush();
    },
  };
}

/** Entry point for bin/guestlink-agent.js. */
export async function main(argv: readonly string[]): Promise<void> {
  let agent: RunningAgent | undefined;
  try {
    agent = await startAgent(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`guestlink-agent: ${err.message}\nTry 'guestlink-agent --help' for more information.\n`);
      process.exit(1);
    }
    throw err;
  }
  if (!agent) return;
  const running = agent;
  // process.exit() would wait for the serial transport's pending read in the thread pool, which a
  // silent host (libvirt keeps the port open) never completes: after a clean close, die by the same
  // signal with the default action instead (systemd counts a SIGTERM death as a clean stop).
  const stop = (sig: NodeJS.Signals) => () => {
    void running.close().then(() => {
      process.removeAllListeners(sig);
      process.kill(process.pid, sig);
    });
  };
  process.on('SIGTERM', stop('SIGTERM'));
  process.on('SIGINT', stop('SIGINT'));
}
