// A double of the kubelet (and the node lifecycle controller) for VMs in the harness: it reports a
// VM's Node to the Kubernetes API double the way a kubelet would, from what the guest really is —
// the boot id read from the guest's /proc/sys/kernel/random/boot_id through the probe port
// (build-initramfs.sh), Ready while the guest answers, not Ready once it has stopped answering for a
// few polls. A new boot id is reported as soon as the new boot answers, with a fresh heartbeat, as
// a kubelet starting on a new boot does. Also keeps a timeline of what it saw, for the tests.
import type { ClusterDouble } from '../../doubles/kube-workloads.js';
import { LineClient } from './line-client.js';
import type { Vm } from './vm.js';

export interface KubeletSighting {
  node: string;
  what: 'boot' | 'gone';
  bootId?: string;
  at: number;
}

/** Missed probes before the Node is marked not Ready (the guest is slow under TCG; a blip is not a reboot). */
const MISSES = 3;

/** The guest's boot id through the probe port, or undefined when it does not answer in time. */
export async function guestBootId(vm: Vm, timeoutMs = 1500): Promise<string | undefined> {
  let c: LineClient | undefined;
  try {
    c = await LineClient.connect(vm.probeSocket, timeoutMs);
    c.write('boot-id\n');
    const line = (await c.readLine(timeoutMs)).toString('utf8');
    return /boot_id=([0-9a-f-]{36})/.exec(line)?.[1];
  } catch {
    return undefined;
  } finally {
    await c?.close().catch(() => {});
  }
}

export class KubeletDouble {
  readonly sightings: KubeletSighting[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cluster: ClusterDouble,
    private readonly vms: ReadonlyMap<string, Vm>,
    private readonly pollMs = 500,
  ) {}

  /** The boot id the Node reports now. */
  reported(node: string): string | undefined {
    return this.cluster.api.nodes.get(node)?.status.nodeInfo.bootID;
  }

  start(): void {
    this.loop = (async () => {
      const misses = new Map<string, number>();
      let round = 0;
      while (!this.stopped) {
        round++;
        await Promise.all(
          [...this.vms].map(async ([node, vm]) => {
            if (!vm.alive()) return;
            const id = await guestBootId(vm);
            if (this.stopped) return;
            const n = this.cluster.api.nodes.get(node);
            const ready = n?.status.conditions?.[0]?.status === 'True';
            if (id) {
              misses.set(node, 0);
              if (id !== this.reported(node)) {
                this.cluster.kubelet(node, { ready: true, bootId: id });
                this.sightings.push({ node, what: 'boot', bootId: id, at: Date.now() });
              } else if (!ready || round % 4 === 0) this.cluster.kubelet(node, { ready: true });
              return;
            }
            const m = (misses.get(node) ?? 0) + 1;
            misses.set(node, m);
            if (m === MISSES && ready) {
              this.cluster.kubelet(node, { ready: false });
              this.sightings.push({ node, what: 'gone', at: Date.now() });
            }
          }),
        );
        await new Promise((r) => setTimeout(r, this.pollMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
