// Ed25519 certificates made with the openssl CLI for the mTLS tests, shaped like Talos's: a CA, an
// apid server certificate (SAN 127.0.0.1/localhost, serverAuth) and client certificates whose
// Subject Organization values are the roles (clientAuth only, as apid requires). A talosconfig
// writer stores them as Talos does: base64 PEMs, the key under `ED25519 PRIVATE KEY`.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface KeyPair {
  crt: Buffer;
  key: Buffer;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed Ed25519 CA in `dir/<name>.crt|key`. */
export function makeCa(dir: string, name: string): KeyPair {
  openssl(dir, ['genpkey', '-algorithm', 'ed25519', '-out', `${name}.key`]);
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    `${name}.key`,
    '-subj',
    `/O=${name}/CN=${name}`,
    '-days',
    '1',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,digitalSignature',
    '-out',
    `${name}.crt`,
  ]);
  return { crt: readFileSync(path.join(dir, `${name}.crt`)), key: readFileSync(path.join(dir, `${name}.key`)) };
}

/** An Ed25519 leaf signed by the CA `ca`; `orgs` become Subject O values (Talos roles). */
export function makeLeaf(dir: string, ca: string, name: string, opts: { orgs: string[]; server?: boolean }): KeyPair {
  const subj = `${opts.orgs.map((o) => `/O=${o}`).join('')}/CN=${name}`;
  openssl(dir, ['genpkey', '-algorithm', 'ed25519', '-out', `${name}.key`]);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subj, '-out', `${name}.csr`]);
  const ext = opts.server
    ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n'
    : 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n';
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  return { crt: readFileSync(path.join(dir, `${name}.crt`)), key: readFileSync(path.join(dir, `${name}.key`)) };
}

/** Writes a talosconfig as talosctl does (mode 0600 unless told otherwise). */
export function writeTalosconfig(
  file: string,
  opts: { endpoint: string; ca: Buffer; client: KeyPair; mode?: number; nodes?: string[] },
): void {
  const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');
  const key = opts.client.key.toString('utf8').replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '-----$1 ED25519 PRIVATE KEY-----');
  const text = `context: test
contexts:
    test:
        endpoints:
            - ${opts.endpoint}
        nodes:
${(opts.nodes ?? ['10.9.9.9']).map((n) => `            - ${n}`).join('\n')}
        ca: ${b64(opts.ca)}
        crt: ${b64(opts.client.crt)}
        key: ${b64(key)}
`;
  writeFileSync(file, text, { mode: opts.mode ?? 0o600 });
  chmodSync(file, opts.mode ?? 0o600);
}
