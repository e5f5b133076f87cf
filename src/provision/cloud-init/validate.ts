// Checks for the values that end up in user-data, meta-data and network-config. Bad input is refused
// here, on the host, with a message naming the setting, instead of failing quietly at first boot.
import { isIP } from 'node:net';
import { CloudInitSettingError, quoted } from './settings.js';

/** RFC 1123 host name: labels of letters, digits and inner hyphens, 1-63 each, 253 in all. */
export function checkHostname(name: string): void {
  const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
  if (name.length > 253 || !name.split('.').every((l) => label.test(l)))
    throw new CloudInitSettingError(`hostname ${quoted(name)}: use letters, digits and inner hyphens, labels of 1-63 separated by dots`);
}

/** A POSIX user name as useradd accepts it by default (NAME_REGEX): no shell or YAML surprises. */
export function checkUserName(name: string): void {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name) || name === 'root')
    throw new CloudInitSettingError(`user ${quoted(name)}: use a lower-case name of up to 32 of a-z, 0-9, _ and - (not root)`);
}

// Key types OpenSSH accepts in authorized_keys; options such as from="..." may precede the type.
const KEY_TYPE =
  /(^|\s)(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}(\s|$)/;

/** Accepts an authorized_keys line; refuses private keys and anything that is not a public key. */
export function checkSshKey(line: string, from: string): void {
  if (line.includes('PRIVATE KEY')) throw new CloudInitSettingError(`${from}: this is a private key; give the public one (the .pub file)`);
  if (/[\r\n]/.test(line) || !KEY_TYPE.test(line))
    throw new CloudInitSettingError(`${from}: ${quoted(line.slice(0, 40))}... is not an SSH public key (ssh-ed25519 AAAA... comment)`);
}

/** Parses an authorized_keys file: one key per line, blank lines and # comments skipped. */
export function parseKeyLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * A ready crypt(3) hash: SHA-512 ($6$), SHA-256 ($5$), yescrypt ($y$), gost-yescrypt ($gy$) or bcrypt ($2a/b/y$).
 * MD5 ($1$) and DES are refused as too weak; a plain password is refused because it would be stored as is.
 * The value never appears in a message.
 */
export function checkPasswordHash(hash: string): void {
  if (!/^\$(6|5|y|gy|2[aby])\$[./A-Za-z0-9$=,]+$/.test(hash))
    throw new CloudInitSettingError(
      'password-hash: a crypt(3) hash is expected ($6$..., $5$..., $y$... or $2b$...; make one with `mkpasswd -m sha-512`); MD5, DES and plain passwords are refused',
    );
}

/** An IANA time zone name (Area/Location, Etc/GMT+1) or UTC; the guest resolves it against its own zone database. */
export function checkTimezone(tz: string): void {
  if (!/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(tz) || tz.length > 64)
    throw new CloudInitSettingError(`timezone ${quoted(tz)}: use an IANA name such as Europe/Berlin or UTC`);
}

/** An address with prefix length, e.g. 192.0.2.10/24 or 2001:db8::10/64; returns the IP version. */
export function checkCidr(cidr: string): 4 | 6 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const version = m ? isIP(m[1] as string) : 0;
  const prefix = m ? Number(m[2]) : -1;
  if (version === 0 || prefix < 0 || prefix > (version === 4 ? 32 : 128))
    throw new CloudInitSettingError(`net-address ${quoted(cidr)}: an address with prefix length is expected, e.g. 192.0.2.10/24`);
  return version as 4 | 6;
}

/** A bare IP address (gateway, DNS server); returns its version. */
export function checkIp(ip: string, setting: string): 4 | 6 {
  const version = isIP(ip);
  if (version === 0) throw new CloudInitSettingError(`${setting} ${quoted(ip)}: an IP address is expected`);
  return version as 4 | 6;
}

/** A MAC address as netplan's match.macaddress takes it (lower-case colon form is written). */
export function checkMac(mac: string): string {
  if (!/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(mac))
    throw new CloudInitSettingError(`net-mac ${quoted(mac)}: a MAC address such as 52:54:00:12:34:56 is expected`);
  return mac.toLowerCase().replace(/-/g, ':');
}

/** Interface names as the kernel allows them (IFNAMSIZ 16, no / or whitespace), limited to safe characters. */
export function checkInterfaceName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name))
    throw new CloudInitSettingError(`net-interface ${quoted(name)}: 1-15 letters, digits, _ . or - are expected`);
}

/** A DNS search domain. */
export function checkDomain(domain: string): void {
  try {
    checkHostname(domain);
  } catch {
    throw new CloudInitSettingError(`net-search ${quoted(domain)}: a domain name is expected`);
  }
}

/** Package names as apt, apk, dnf and zypper accept them; nothing a shell or YAML could misread. */
export function checkPackage(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9+._:=~-]*$/.test(name))
    throw new CloudInitSettingError(`package ${quoted(name)}: letters, digits and + . _ : = ~ - are expected`);
}

/** An https:// URL (http:// refused: the script or binary it names runs as root). */
export function checkHttpsUrl(url: string, setting: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CloudInitSettingError(`${setting} ${quoted(url)}: not a URL`);
  }
  if (u.protocol !== 'https:')
    throw new CloudInitSettingError(`${setting} ${quoted(url)}: https:// is required (what it fetches runs as root)`);
}
