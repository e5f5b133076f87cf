// The composition root: the only module that wires transport, dispatcher, commands and back ends.
// Each part is made in a module of its own (transport.ts, node-backend.ts, kubernetes.ts, etcd.ts,
// commands.ts, endpoint.ts, vmware.ts); this file puts them together in order and closes them again.
import { writeFileSync } from 'node:fs';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { COMMAND_NAMES } from '../protocol/qga/commands.js';
import { jsonLimits, maxMessageCharge } from '../protocol/qga/json-stream.js';
import { VERSION } from '../version.js';
import { createCommands } from './commands.js';
import { type AgentConfig, ConfigError, dumpConfig, helpText, loadConfig } from './config.js';
import { withEtcdSnapshots } from './etcd.js';
import { withKubernetes } from './kubernetes.js';
import { createLogger } from './log.js';
import { type Channel, createNode, qgaEnvironment } from './node-backend.js';
import { serve } from './serve.js';
import { FileAgentState } from './state.js';
import { createTransport } from './transport.js';
import { startOtherFrontEnds } from './vmware.js';

export interface RunningAgent {
  config: AgentConfig;
  /** Says that a signal was received and ignored (SIGUSR1, see main). */
  ignored(signal: NodeJS.Signals, why: string): void;
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
  const channel: Channel = {};
  const { node, kube } = await withKubernetes(
    config,
    await withEtcdSnapshots(config, await createNode(config, log, qgaEnvironment(env), channel), log),
    log,
  );
  // The management endpoint (--listen): its authorize step goes into the dispatcher; nothing loads without it.
  const endpoint = config.listen ? await (await import('./endpoint.js')).prepareEndpoint(config, kube, node, log) : undefined;
  const { handlers, policy, settings, files, freeze } = createCommands(config, node);
  const dispatcher = new Dispatcher({
    version: VERSION,
    handlers,
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
    ignored: (signal, why) => log.info({ signal }, `${signal} ignored: ${why}`),
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
  // Node's default for SIGUSR1 opens V8's inspector on 127.0.0.1:9229, a debugger any local user could
  // attach to in an agent running as root. The executable starts with --disable-sigusr1; Node 20 (the
  // checkout, npm installs) has no such flag, and a listener of our own replaces Node's handler there.
  if (!process.execArgv.includes('--disable-sigusr1'))
    process.on('SIGUSR1', () => running.ignored('SIGUSR1', 'it would open the V8 inspector'));
}
