// Pushes what vSphere shows about the guest (host name, OS names, uptime, NICs) with SetGuestInfo,
// sending a value only when it changed since the host last accepted it (as guestInfoServer.c caches),
// and forgetting the cache on `reset` (a new VMX, after vMotion or a VMX restart, knows nothing).
import type { Network, SystemInfo } from '../../node/interfaces.js';
import { encodeGuestNicProto } from '../../protocol/vmware/nicinfo-xdr.js';
import { GUEST_INFO, infoSet, setGuestInfo } from '../../protocol/vmware/rpci.js';
import type { VmwareLog } from './log.js';
import { buildNicInfo, DEFAULT_EXCLUDE_NICS, primaryIpv4 } from './nic-info.js';
import { fullOsName, shortOsName } from './os-names.js';
import type { RpciClient } from './rpci-client.js';

export interface GuestInfoSources {
  system: Pick<SystemInfo, 'hostname' | 'osInfo'>;
  network: Network;
  /** Seconds since boot (the agent passes os.uptime). */
  uptimeSeconds: () => number;
  /** Interface name patterns to leave out of the NIC info. */
  excludeNics?: readonly string[];
}

export class GuestInfoReporter {
  private sent = new Map<number, string>();
  private lastPush = 0;

  constructor(
    private readonly rpci: RpciClient,
    private readonly src: GuestInfoSources,
    private readonly log: VmwareLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new VMX: send everything again. */
  forget(): void {
    this.sent.clear();
  }

  /** SetGuestInfo 7: uptime in hundredths of a second; always sent (it always changes). */
  async sendUptime(): Promise<void> {
    const centis = Math.max(0, Math.round(this.src.uptimeSeconds() * 100));
    await this.rpci.tryRequest(setGuestInfo(GUEST_INFO.uptime, String(centis)), (err) =>
      this.log.debug({ err: err.message }, 'VMware: uptime not accepted'),
    );
  }

  private async sendIfChanged(kind: number, payload: Buffer): Promise<boolean> {
    const key = payload.toString('base64');
    if (this.sent.get(kind) === key) return true;
    try {
      await this.rpci.request(setGuestInfo(kind, payload));
      this.sent.set(kind, key);
      return true;
    } catch (err) {
      this.log.debug({ kind, err: (err as Error).message }, 'VMware: guest info not accepted');
      return false;
    }
  }

  /** Sends every value that changed; a source that fails is skipped and logged, the rest still go. */
  async push(): Promise<void> {
    this.lastPush = this.now();
    let hostname: string | undefined;
    try {
      hostname = await this.src.system.hostname();
      await this.sendIfChanged(GUEST_INFO.dnsName, Buffer.from(hostname, 'utf8'));
    } catch (err) {
      this.log.warn({ err: String(err) }, 'VMware: cannot read the host name');
    }
    try {
      const os = await this.src.system.osInfo();
      await this.sendIfChanged(GUEST_INFO.osNameFull, Buffer.from(fullOsName(os), 'utf8'));
      await this.sendIfChanged(GUEST_INFO.osName, Buffer.from(shortOsName(os), 'utf8'));
    } catch (err) {
      this.log.warn({ err: String(err) }, 'VMware: cannot read the OS release');
    }
    await this.sendUptime();
    await this.sendNics(hostname);
  }

  /** NIC info v3 as INFO_IPADDRESS_V3; a host that refuses it gets the same bytes as INFO_IPADDRESS_V2 (nicInfo fallback order). */
  async sendNics(hostname?: string): Promise<void> {
    try {
      const name = hostname ?? (await this.src.system.hostname().catch(() => undefined));
      const ifs = await this.src.network.interfaces();
      const xdr = encodeGuestNicProto(buildNicInfo(ifs, name, { exclude: this.src.excludeNics ?? DEFAULT_EXCLUDE_NICS }));
      if (!(await this.sendIfChanged(GUEST_INFO.ipAddressV3, xdr))) await this.sendIfChanged(GUEST_INFO.ipAddressV2, xdr);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'VMware: cannot build the NIC info');
    }
  }

  /** `Set_Option broadcastIP 1`: `info-set guestinfo.ip <ip>`, then the NIC info. Throws when the host refuses. */
  async broadcastIp(): Promise<void> {
    const ifs = await this.src.network.interfaces();
    const ip = primaryIpv4(ifs, this.src.excludeNics ?? DEFAULT_EXCLUDE_NICS);
    if (!ip) {
      this.log.info({}, 'VMware: broadcastIP asked, but no IPv4 address to publish');
      return;
    }
    await this.rpci.request(infoSet('ip', ip));
    this.sent.delete(GUEST_INFO.ipAddressV3);
    await this.sendNics();
  }

  /** True when the last push is older than maxAgeMs. */
  stale(maxAgeMs: number): boolean {
    return this.now() - this.lastPush >= maxAgeMs;
  }
}
