// A simulated cluster for the rollout's fast tests: the Kubernetes API double (with workloads and
// the rollout operator's token) and "VMs" that are QGA agents on unix sockets running guestlink's
// real Kubernetes lifecycle code (KubePower's cordon and drain, afterStart's uncordon) against the
// double with the agent's service-account token. Only the machine is simulated: guest-shutdown
// reboot marks the Node NotReady (the kubelet gone), and after `downMs` the "new boot" reports a
// new boot id and Ready, and its agent's after-start check uncordons. Nothing touches this machine.
// test/e2e/rollout.test.ts does the same with real VMs and real reboots.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterStart } from '../../src/kube/after-start.js';
import { KubeApi } from '../../src/kube/api.js';
import { Recorder } from '../../src/kube/events.js';
import { KubePower } from '../../src/kube/power.js';
import { RestClient } from '../../src/kube/rest.js';
import type { Power, ShutdownMode } from '../../src/node/interfaces.js';
import { JsonStreamReader } from '../../src/protocol/qga/json-stream.js';
import { isObject, type JsonValue, writeJson } from '../../src/protocol/qga/json-value.js';
import { KubeApiDouble, kubeconfigFor, SA_TOKEN } from '../doubles/kube-api.js';
import { ClusterDouble, ROLLOUT_TOKEN } from '../doubles/kube-workloads.js';

export interface SimVmOptions {
  /** The Node it is (its agent's --node-name). */
  node: string;
  /** What guest-get-host-name answers (default: the node name); a liar answers another. */
  hostName?: string;
  /** What guest-network-get-interfaces lists (default 10.0.0.N, the Node's InternalIP). */
  addresses?: string[];
  controlPlane?: boolean;
  /** How long the machine is down during a reboot (ms). */
  downMs?: number;
  /** The agent refuses guest-shutdown with this GenericError. */
  refuse?: string;
  /** The machine goes down and never comes back. */
  neverBack?: boolean;
  /** No Kubernetes lifecycle in the agent: it reboots without draining (a misconfigured agent). */
  noDrain?: boolean;
}

/** A timeline entry: what happened to which node when (the tests check orders and overlaps). */
export interface SimEvent {
  node: string;
  what: 'request' | 'down' | 'up' | 'uncordoned';
  at: number;
}

export class SimVm {
  readonly socket: string;
  bootId = randomUUID();
  reboots = 0;
  private server: net.Server | undefined;
  private readonly conns = new Set<net.Socket>();
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    readonly sim: SimCluster,
    readonly o: SimVmOptions,
  ) {
    this.socket = path.join(sim.dir, `${o.node}.sock`);
  }

  get address(): string {
    return `unix:${this.socket}`;
  }

  async start(): Promise<void> {
    this.server = net.createServer((c) => this.serve(c));
    await new Promise<void>((r) => this.server?.listen(this.socket, r));
  }

  private serve(c: net.Socket): void {
    this.conns.add(c);
    c.on('close', () => this.conns.delete(c));
    c.on('error', () => {});
    const reader = new JsonStreamReader((ev) => {
      if ('error' in ev) return void c.write(writeJson({ error: { class: 'GenericError', desc: ev.error } }));
      const req = ev.value;
      if (!isObject(req)) return;
      const args = isObject(req.arguments) ? req.arguments : {};
      const answer = (v: JsonValue) => c.write(writeJson({ return: v }));
      switch (req.execute) {
        case 'guest-sync-delimited':
          c.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(writeJson({ return: args.id ?? 0 }))]));
          return;
        case 'guest-ping':
          return void answer({});
        case 'guest-get-host-name':
          return void answer({ 'host-name': this.o.hostName ?? this.o.node });
        case 'guest-network-get-interfaces':
          return void answer([
            { name: 'lo', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }] },
            {
              name: 'eth0',
              'hardware-address': '52:54:00:12:34:56',
              'ip-addresses': (this.o.addresses ?? [this.sim.addressOf(this.o.node)]).map((a) => ({
                'ip-address': a,
                'ip-address-type': 'ipv4',
                prefix: 24,
              })),
            },
          ]);
        case 'guest-shutdown':
          this.sim.events.push({ node: this.o.node, what: 'request', at: Date.now() });
          this.shutdown(String(args.mode ?? 'powerdown')).then(
            () => c.destroy(),
            (err: Error) => c.write(writeJson({ error: { class: 'GenericError', desc: err.message } })),
          );
          return;
        default:
          c.write(writeJson({ error: { class: 'CommandNotFound', desc: `The command ${String(req.execute)} has not been found` } }));
      }
    });
    c.on('data', (d: Buffer) => reader.feed(Buffer.from(d.filter((b) => b !== 0xff))));
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) f();
    }, ms);
    this.timers.add(t);
  }

  /** The agent: KubePower (drain) around a Power that "reboots" the simulated machine. */
  private shutdown(mode: string): Promise<void> {
    if (this.o.refuse) return Promise.reject(new Error(this.o.refuse));
    const machine: Power = {
      name: 'sim',
      shutdown: async (m: ShutdownMode) => {
        if (m !== 'reboot') throw new Error('the simulation only reboots');
        this.later(20, () => this.reboot());
      },
      suspend: async () => {},
    };
    if (this.o.noDrain) return machine.shutdown(mode as ShutdownMode);
    return this.sim.power(this.o.node, this.bootId, machine).shutdown(mode as ShutdownMode);
  }

  private reboot(): void {
    this.reboots++;
    for (const c of this.conns) c.destroy();
    this.sim.events.push({ node: this.o.node, what: 'down', at: Date.now() });
    this.sim.cluster.kubelet(this.o.node, { ready: false });
    if (this.o.neverBack) return;
    this.later(this.o.downMs ?? 150, () => {
      this.bootId = randomUUID();
      const bootTime = Date.now();
      this.sim.cluster.kubelet(this.o.node, { ready: true, bootId: this.bootId });
      this.sim.events.push({ node: this.o.node, what: 'up', at: Date.now() });
      if (this.o.noDrain) return;
      const power = this.sim.power(this.o.node, this.bootId, { name: 'sim', shutdown: async () => {}, suspend: async () => {} });
      void afterStart({
        api: this.sim.agentApi,
        nodeName: this.o.node,
        bootId: this.bootId,
        bootTime: bootTime - 1,
        power,
        recorder: new Recorder(this.sim.agentApi, this.o.node, this.sim.log),
        log: this.sim.log,
        pollMs: 30,
        stopped: () => this.stopped,
      }).then((r) => {
        if (r === 'uncordoned') this.sim.events.push({ node: this.o.node, what: 'uncordoned', at: Date.now() });
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export class SimCluster {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'guestlink-rollout-'));
  readonly api = new KubeApiDouble({ terminationMs: 20, readyMs: 40 });
  readonly cluster = new ClusterDouble(this.api);
  readonly vms: SimVm[] = [];
  readonly events: SimEvent[] = [];
  readonly log = pino({ level: 'silent' });
  /** The agents' client (the service-account token of deploy/kubernetes/rbac.yaml). */
  agentApi!: KubeApi;
  private agentRest: RestClient | undefined;
  /** A kubeconfig for the rollout operator (deploy/rollout/rbac.yaml) or another token. */
  kubeconfig = '';

  async start(): Promise<this> {
    await this.api.start();
    this.agentRest = new RestClient({ server: this.api.url, token: () => SA_TOKEN });
    this.agentApi = new KubeApi(this.agentRest);
    this.kubeconfig = path.join(this.dir, 'kubeconfig');
    writeFileSync(this.kubeconfig, kubeconfigFor(this.api, ROLLOUT_TOKEN), { mode: 0o600 });
    return this;
  }

  addressOf(node: string): string {
    const i = [...this.api.nodes.keys()].indexOf(node);
    return `10.0.0.${10 + Math.max(0, i)}`;
  }

  /** A Node and its VM (agent listening). */
  async addVm(o: SimVmOptions): Promise<SimVm> {
    const vm = new SimVm(this, o);
    this.api.addNode(o.node, {
      controlPlane: o.controlPlane ?? false,
      bootId: vm.bootId,
      addresses: [`10.0.0.${10 + this.api.nodes.size}`],
    });
    await vm.start();
    this.vms.push(vm);
    return vm;
  }

  /** Pods of a Deployment spread over the nodes, a DaemonSet pod on each, and a budget. */
  addWorkloads(replicas = 2): void {
    const nodes = [...this.api.nodes.keys()];
    for (let i = 0; i < replicas; i++)
      this.api.addPod({
        name: `web-${i}`,
        node: nodes[i % nodes.length] as string,
        owner: { kind: 'ReplicaSet', name: 'web-1' },
        labels: { app: 'web' },
      });
    this.cluster.addDeployment({ name: 'web', replicas, matchLabels: { app: 'web' } });
    this.api.addPdb({ name: 'web', matchLabels: { app: 'web' }, maxUnavailable: 1 });
    for (const n of nodes)
      this.api.addPod({
        name: `agent-${n}`,
        namespace: 'kube-system',
        node: n,
        owner: { kind: 'DaemonSet', name: 'agent' },
        labels: { app: 'agent' },
      });
    this.cluster.addDaemonSet({ name: 'agent', namespace: 'kube-system', matchLabels: { app: 'agent' } });
  }

  power(node: string, bootId: string, inner: Power): KubePower {
    return new KubePower(inner, {
      api: this.agentApi,
      nodeName: node,
      bootId,
      drain: 'auto',
      timeoutMs: 10_000,
      onTimeout: 'proceed',
      recorder: new Recorder(this.agentApi, node, this.log),
      log: this.log,
      tuning: { retryMs: 50, pollMs: 20, callTimeoutMs: 2000 },
    });
  }

  vm(node: string): SimVm {
    const v = this.vms.find((x) => x.o.node === node);
    if (!v) throw new Error(`no VM ${node}`);
    return v;
  }

  async stop(): Promise<void> {
    for (const v of this.vms) await v.stop();
    this.cluster.stop();
    this.agentRest?.close();
    await this.api.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Nodes down at once, at most, over the timeline (down .. up). */
export function maxDownAtOnce(events: readonly SimEvent[]): number {
  let down = 0;
  let peak = 0;
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.what === 'down') peak = Math.max(peak, ++down);
    if (e.what === 'up') down--;
  }
  return peak;
}
