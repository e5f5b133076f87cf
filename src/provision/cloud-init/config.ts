// Turns merged raw settings into one frozen, validated description of the seed. Files named by
// settings (keys, password hash, vendor-data) are read through the caller's `readText`, so this layer
// stays free of I/O and the CLI decides how paths are resolved.

import { type CiRaw, CloudInitSettingError, quoted } from './settings.js';
import {
  checkCidr,
  checkDomain,
  checkHostname,
  checkHttpsUrl,
  checkInterfaceName,
  checkIp,
  checkMac,
  checkPackage,
  checkPasswordHash,
  checkSshKey,
  checkTimezone,
  checkUserName,
  parseKeyLines,
} from './validate.js';

export type SudoRule = 'nopasswd' | 'password' | 'none';
export type GuestAgent = { kind: 'qemu-guest-agent' } | { kind: 'guestlink'; url?: string; sha256?: string } | { kind: 'none' };

export interface KubeSoloConfig {
  installUrl: string;
  version?: string;
  path?: string;
  apiserverExtraSans: readonly string[];
  localStorage: boolean;
  proxy?: string;
}

export type NetworkConfig =
  | { mode: 'auto' }
  | {
      mode: 'dhcp' | 'static';
      interface: string;
      mac?: string;
      addresses: readonly string[];
      gateways: readonly string[];
      dns: readonly string[];
      search: readonly string[];
    };

export interface CloudInitConfig {
  hostname: string;
  /** Set when the host name given was dotted. */
  fqdn?: string;
  instanceId: string;
  /** The user to create; absent: keys go to the image's default user. */
  user?: { name: string; sudo: SudoRule; passwordHash?: string };
  sshAuthorizedKeys: readonly string[];
  sshPasswordAuth: boolean;
  packages: readonly string[];
  packageUpdate: boolean;
  packageUpgrade: boolean;
  guestAgent: GuestAgent;
  kubesolo?: KubeSoloConfig;
  timezone?: string;
  network: NetworkConfig;
  vendorData?: string;
}

export type ReadText = (path: string) => string;

const str = (raw: CiRaw, key: keyof CiRaw): string | undefined => {
  const v = raw[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
};
const list = (raw: CiRaw, key: keyof CiRaw): readonly string[] => (Array.isArray(raw[key]) ? (raw[key] as readonly string[]) : []);
const bool = (raw: CiRaw, key: keyof CiRaw): boolean => raw[key] === true;

/** Validates merged settings (see mergeCi) and returns the frozen seed description. */
export function resolveCloudInit(raw: CiRaw, readText: ReadText): CloudInitConfig {
  const hostname = str(raw, 'hostname');
  if (!hostname) throw new CloudInitSettingError('hostname is required (--hostname, GUESTLINK_CI_HOSTNAME or hostname: in the file)');
  checkHostname(hostname);
  const short = hostname.split('.')[0] as string;
  const instanceId = str(raw, 'instance-id') ?? `iid-${short}`;
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(instanceId))
    throw new CloudInitSettingError(`instance-id ${quoted(instanceId)}: 1-128 letters, digits and . _ : - are expected`);

  const keys = [...list(raw, 'ssh-authorized-keys')];
  for (const path of list(raw, 'ssh-authorized-keys-file'))
    keys.push(...parseKeyLines(readFileSetting(readText, path, 'ssh-authorized-keys-file')));
  for (const [i, k] of keys.entries()) checkSshKey(k, `ssh authorized key ${i + 1}`);

  let passwordHash = str(raw, 'password-hash');
  const hashFile = str(raw, 'password-hash-file');
  if (passwordHash && hashFile) throw new CloudInitSettingError('give password-hash or password-hash-file, not both');
  if (hashFile) passwordHash = (readFileSetting(readText, hashFile, 'password-hash-file').split(/\r?\n/)[0] ?? '').trim();
  if (passwordHash !== undefined) checkPasswordHash(passwordHash);

  const userName = str(raw, 'user');
  if (userName) checkUserName(userName);
  if (passwordHash && !userName) throw new CloudInitSettingError('password-hash needs --user (the user it belongs to)');
  const sudo = (str(raw, 'sudo') ?? 'nopasswd') as SudoRule;
  if (sudo === 'password' && !passwordHash)
    throw new CloudInitSettingError('--sudo password needs a password hash, or the user could never use sudo');

  const packages = [...list(raw, 'packages')];
  packages.forEach(checkPackage);

  const timezone = str(raw, 'timezone');
  if (timezone) checkTimezone(timezone);

  const vendorFile = str(raw, 'vendor-data-file');
  const config: CloudInitConfig = {
    hostname: short,
    ...(hostname.includes('.') ? { fqdn: hostname } : {}),
    instanceId,
    ...(userName ? { user: { name: userName, sudo, ...(passwordHash ? { passwordHash } : {}) } } : {}),
    sshAuthorizedKeys: keys,
    sshPasswordAuth: bool(raw, 'ssh-password-auth'),
    packages,
    packageUpdate: bool(raw, 'package-update'),
    packageUpgrade: bool(raw, 'package-upgrade'),
    guestAgent: resolveGuestAgent(raw),
    ...(bool(raw, 'kubesolo') ? { kubesolo: resolveKubeSolo(raw) } : {}),
    ...(timezone ? { timezone } : {}),
    network: resolveNetwork(raw),
    ...(vendorFile ? { vendorData: readFileSetting(readText, vendorFile, 'vendor-data-file') } : {}),
  };
  return deepFreeze(config);
}

function resolveGuestAgent(raw: CiRaw): GuestAgent {
  const kind = str(raw, 'guest-agent') ?? 'qemu-guest-agent';
  const url = str(raw, 'guestlink-url');
  const sha256 = str(raw, 'guestlink-sha256')?.toLowerCase();
  if (kind !== 'guestlink') {
    if (url || sha256) throw new CloudInitSettingError('guestlink-url/guestlink-sha256 need --guest-agent guestlink');
    return { kind } as GuestAgent;
  }
  if (url) {
    checkHttpsUrl(url, 'guestlink-url');
    // The executable runs as root: a download is only trusted when its digest matches.
    if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256))
      throw new CloudInitSettingError('guestlink-url needs --guestlink-sha256 (64 hex digits) so the guest can verify the download');
    return { kind, url, sha256 };
  }
  if (sha256) throw new CloudInitSettingError('guestlink-sha256 needs --guestlink-url');
  return { kind };
}

function resolveKubeSolo(raw: CiRaw): KubeSoloConfig {
  const installUrl = str(raw, 'kubesolo-install-url') ?? 'https://get.kubesolo.io';
  checkHttpsUrl(installUrl, 'kubesolo-install-url');
  const version = str(raw, 'kubesolo-version');
  if (version && !/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(version))
    throw new CloudInitSettingError(`kubesolo-version ${quoted(version)}: a version such as v1.1.9 is expected`);
  const path = str(raw, 'kubesolo-path');
  if (path && !/^\/[A-Za-z0-9_./-]*$/.test(path))
    throw new CloudInitSettingError(`kubesolo-path ${quoted(path)}: an absolute path is expected`);
  const sans = list(raw, 'kubesolo-apiserver-extra-sans');
  for (const san of sans) {
    if (san.includes(':') || /^\d+(\.\d+){3}$/.test(san)) checkIp(san, 'kubesolo-apiserver-extra-san');
    else checkHostname(san);
  }
  const proxy = str(raw, 'kubesolo-proxy');
  if (proxy) {
    try {
      const u = new URL(proxy);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new CloudInitSettingError(`kubesolo-proxy ${quoted(proxy)}: an http:// or https:// URL is expected`);
    }
  }
  return {
    installUrl,
    ...(version ? { version: version.startsWith('v') ? version : `v${version}` } : {}),
    ...(path ? { path } : {}),
    apiserverExtraSans: sans,
    localStorage: bool(raw, 'kubesolo-local-storage'),
    ...(proxy ? { proxy } : {}),
  };
}

function resolveNetwork(raw: CiRaw): NetworkConfig {
  const mode = str(raw, 'net') ?? 'auto';
  const addresses = list(raw, 'net-addresses');
  const gateways = list(raw, 'net-gateways');
  const dns = list(raw, 'net-dns');
  const search = list(raw, 'net-search');
  const mac = str(raw, 'net-mac');
  if (mode === 'auto') {
    if (addresses.length || gateways.length || dns.length || search.length || mac)
      throw new CloudInitSettingError('net-* settings need --net dhcp or --net static');
    return { mode: 'auto' };
  }
  const iface = str(raw, 'net-interface') ?? 'eth0';
  checkInterfaceName(iface);
  if (mode === 'dhcp' && (addresses.length || gateways.length))
    throw new CloudInitSettingError('net-address/net-gateway are for --net static (DHCP assigns them)');
  if (mode === 'static' && addresses.length === 0) throw new CloudInitSettingError('--net static needs at least one --net-address');
  const versions = new Set(addresses.map(checkCidr));
  const gwVersions = new Set<number>();
  for (const gw of gateways) {
    const v = checkIp(gw, 'net-gateway');
    if (gwVersions.has(v)) throw new CloudInitSettingError(`net-gateway: one IPv${v} gateway at most`);
    if (!versions.has(v)) throw new CloudInitSettingError(`net-gateway ${quoted(gw)}: no IPv${v} address to reach it from`);
    gwVersions.add(v);
  }
  for (const d of dns) checkIp(d, 'net-dns');
  search.forEach(checkDomain);
  return {
    mode: mode as 'dhcp' | 'static',
    interface: iface,
    ...(mac ? { mac: checkMac(mac) } : {}),
    addresses,
    gateways,
    dns,
    search,
  };
}

function readFileSetting(readText: ReadText, path: string, setting: string): string {
  try {
    return readText(path);
  } catch (err) {
    throw new CloudInitSettingError(`${setting} ${quoted(path)}: ${(err as Error).message}`);
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
