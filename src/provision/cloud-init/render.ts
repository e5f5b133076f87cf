// Renders the three NoCloud files from a resolved configuration: user-data (#cloud-config), meta-data
// and network-config (version 2). YAML is produced by the `yaml` package from plain objects, never by
// string templates, so no value can break the document's structure.
import { stringify } from 'yaml';
import type { CloudInitConfig, NetworkConfig } from './config.js';
import { agentSteps } from './guest-agent.js';
import { kubesoloRuncmd } from './kubesolo.js';

// lineWidth 0: never fold long lines (SSH keys, hashes, commands) — folded scalars are legal YAML but
// make the files hard to read and diff.
// version 1.1: cloud-init reads with PyYAML, a YAML 1.1 parser, so strings that 1.1 would take for
// something else are quoted: a MAC such as 52:54:00:12:34:56 is a base-60 integer there, yes/no/on/off
// are booleans.
const YAML_OPTIONS = { lineWidth: 0, minContentWidth: 0, version: '1.1' } as const;

const SUDO_RULE = { nopasswd: 'ALL=(ALL) NOPASSWD:ALL', password: 'ALL=(ALL) ALL' } as const;

/** The user-data object (before YAML), exposed for tests that check its fields. */
export function userDataObject(c: CloudInitConfig): Record<string, unknown> {
  const agent = agentSteps(c.guestAgent);
  const packages = unique([...agent.packages, ...(c.kubesolo ? ['curl'] : []), ...c.packages]);
  const runcmd = [...agent.runcmd, ...(c.kubesolo ? kubesoloRuncmd(c.kubesolo) : [])];
  const out: Record<string, unknown> = {
    hostname: c.hostname,
    ...(c.fqdn ? { fqdn: c.fqdn } : {}),
    ...(c.timezone ? { timezone: c.timezone } : {}),
  };
  if (c.user) {
    // Only our user: the image's default user (with its password-less sudo) is not created. No `shell`:
    // the distribution's useradd default applies (/bin/sh on Debian and Alpine, where bash may be absent).
    const u = c.user;
    out.users = [
      {
        name: u.name,
        ...(u.sudo === 'none' ? {} : { sudo: SUDO_RULE[u.sudo] }),
        // `passwd` (a hash, applied when the user is created) is understood by every cloud-init release;
        // `hashed_passwd` is a recent addition (22.x). Without a hash the password stays locked.
        lock_passwd: u.passwordHash === undefined,
        ...(u.passwordHash ? { passwd: u.passwordHash } : {}),
        ...(c.sshAuthorizedKeys.length ? { ssh_authorized_keys: [...c.sshAuthorizedKeys] } : {}),
      },
    ];
  } else if (c.sshAuthorizedKeys.length) {
    // No user of ours: top-level keys go to the image's default user (debian, alpine, ubuntu, ...).
    out.ssh_authorized_keys = [...c.sshAuthorizedKeys];
  }
  out.ssh_pwauth = c.sshPasswordAuth;
  if (c.packageUpdate) out.package_update = true;
  if (c.packageUpgrade) out.package_upgrade = true;
  if (packages.length) out.packages = packages;
  if (agent.writeFiles.length) out.write_files = agent.writeFiles.map((f) => ({ ...f, owner: 'root:root' }));
  if (runcmd.length) out.runcmd = runcmd;
  return out;
}

/** user-data: the `#cloud-config` header line is what makes cloud-init read the rest as cloud-config. */
export function renderUserData(c: CloudInitConfig): string {
  return `#cloud-config\n${stringify(userDataObject(c), YAML_OPTIONS)}`;
}

/** meta-data: NoCloud's instance-id (a change re-runs per-instance modules) and local-hostname. */
export function renderMetaData(c: CloudInitConfig): string {
  return stringify({ 'instance-id': c.instanceId, 'local-hostname': c.fqdn ?? c.hostname }, YAML_OPTIONS);
}

/** The network-config v2 object, or undefined for `auto` (no file: cloud-init's DHCP fallback applies). */
export function networkConfigObject(n: NetworkConfig): Record<string, unknown> | undefined {
  if (n.mode === 'auto') return undefined;
  const eth: Record<string, unknown> = {};
  // Matching by MAC and renaming works with every renderer cloud-init has (ENI on Alpine included);
  // a name glob would not.
  if (n.mac) {
    eth.match = { macaddress: n.mac };
    eth['set-name'] = n.interface;
  }
  if (n.mode === 'dhcp') {
    eth.dhcp4 = true;
  } else {
    eth.dhcp4 = false;
    eth.addresses = [...n.addresses];
    // IPv4 default route as `routes` with an explicit prefix (netplan deprecates `gateway4`; cloud-init
    // 22.4 rejects `to: default`). IPv6 as `gateway6`: cloud-init 22.4 renders a `to: ::/0` route as
    // `::/64` for networkd and ENI (prefix 0 taken as unset) — seen with `cloud-init devel net-convert`.
    const v4 = n.gateways.find((gw) => !gw.includes(':'));
    const v6 = n.gateways.find((gw) => gw.includes(':'));
    if (v4) eth.routes = [{ to: '0.0.0.0/0', via: v4 }];
    if (v6) eth.gateway6 = v6;
  }
  if (n.dns.length || n.search.length)
    eth.nameservers = { ...(n.dns.length ? { addresses: [...n.dns] } : {}), ...(n.search.length ? { search: [...n.search] } : {}) };
  // NoCloud's network-config file holds the v2 document at its top level (cloud-init's NoCloud docs).
  return { version: 2, ethernets: { [n.interface]: eth } };
}

/** network-config text, or undefined when none is to be written. */
export function renderNetworkConfig(c: CloudInitConfig): string | undefined {
  const obj = networkConfigObject(c.network);
  return obj ? stringify(obj, YAML_OPTIONS) : undefined;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
