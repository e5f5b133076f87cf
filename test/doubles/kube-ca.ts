// The API double's cluster CA, made with the openssl CLI (as kubeadm makes ca.crt): it signs the
// double's own serving certificate, client certificates for users (CN = user, O = groups, as the API
// server reads them), and, as kube-controller-manager's signer does for kubernetes.io/kubelet-serving,
// approved CSRs: subject copied (O, CN), SANs copied, key usage digital signature (+ key encipherment
// when asked), extended key usage server auth, not a CA, notBefore backdated, notAfter capped.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** openssl ca's date format: YYYYMMDDHHMMSSZ (generalized time works for every year). */
function asn1Time(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

export interface KeyPair {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

export class ClusterCa {
  readonly dir: string;
  readonly cert: string;
  readonly certFile: string;
  private readonly keyFile: string;
  private serial = 1;

  /** A new CA in its own temp dir, valid `days` days, subject CN=`cn`. */
  constructor(cn = 'kubernetes-double-ca', days = 3) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'kube-double-ca-'));
    this.keyFile = path.join(this.dir, 'ca.key');
    this.certFile = path.join(this.dir, 'ca.crt');
    execFileSync(
      'openssl',
      ['req', '-x509', ...EC, '-days', String(days), '-subj', `/CN=${cn}`, '-keyout', this.keyFile, '-out', this.certFile],
      {
        stdio: 'ignore',
      },
    );
    this.cert = readFileSync(this.certFile, 'utf8');
    mkdirSync(path.join(this.dir, 'issued'));
    writeFileSync(path.join(this.dir, 'index.txt'), '');
    writeFileSync(path.join(this.dir, 'serial'), '1000\n');
    writeFileSync(
      path.join(this.dir, 'ca.cnf'),
      `[ca]
default_ca = double
[double]
database = ${this.dir}/index.txt
new_certs_dir = ${this.dir}/issued
serial = ${this.dir}/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
preserve = yes
email_in_dn = no
[any]
organizationName = optional
commonName = optional
[serving]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[serving_rsa]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
[intermediate]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
`,
    );
  }

  /** Signs a PEM CSR with `openssl ca`: validity [notBefore, notAfter] in ms, extensions section `ext`. */
  sign(csrPem: string, notBefore: number, notAfter: number, ext: 'serving' | 'serving_rsa' | 'client' | 'intermediate'): string {
    const n = this.serial++;
    const csrFile = path.join(this.dir, `req-${n}.csr`);
    const out = path.join(this.dir, `cert-${n}.pem`);
    writeFileSync(csrFile, csrPem);
    const args = ['ca', '-batch', '-notext', '-config', path.join(this.dir, 'ca.cnf'), '-cert', this.certFile, '-keyfile', this.keyFile];
    args.push('-in', csrFile, '-out', out, '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter), '-extensions', ext);
    execFileSync('openssl', args, { stdio: 'pipe' });
    return readFileSync(out, 'utf8');
  }

  /** A key and certificate signed by this CA for `subject` (like /CN=jane/O=sre), one day. */
  issue(name: string, subject: string, ext: 'client' | 'serving' | 'intermediate', sans?: string): KeyPair {
    const keyFile = path.join(this.dir, `${name}.key`);
    const certFile = path.join(this.dir, `${name}.pem`);
    const csrFile = path.join(this.dir, `${name}.csr`);
    const args = ['req', '-new', ...EC, '-subj', subject, '-keyout', keyFile, '-out', csrFile];
    if (sans) args.push('-addext', `subjectAltName=${sans}`);
    execFileSync('openssl', args, { stdio: 'ignore' });
    const now = Date.now();
    const cert = this.sign(readFileSync(csrFile, 'utf8'), now - 60_000, now + 86_400_000, ext);
    writeFileSync(certFile, cert);
    return { key: readFileSync(keyFile, 'utf8'), cert, keyFile, certFile };
  }

  /** A client certificate for a Kubernetes user: CN is the user, each O a group. */
  client(user: string, groups: readonly string[] = []): KeyPair {
    const subject = `${groups.map((g) => `/O=${g}`).join('')}/CN=${user}`;
    return this.issue(`client-${user.replace(/[^a-z0-9-]/gi, '_')}-${this.serial}`, subject, 'client');
  }

  /**
   * A client certificate for `user` issued through `depth` intermediate CAs below this one; `cert` is
   * the leaf followed by the intermediates (what a client sends), the last one signed by this CA.
   */
  deepChain(user: string, depth: number): KeyPair {
    const dir = this.dir;
    const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
    const ext = path.join(dir, 'chain.ext');
    writeFileSync(
      ext,
      '[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
    );
    let issuer = this.issue(`chain-int-1-${this.serial}`, '/CN=intermediate-1', 'intermediate');
    const chain = [issuer.cert];
    for (let i = 2; i <= depth + 1; i++) {
      const name = `chain-${i}-${this.serial++}`;
      const leaf = i === depth + 1;
      run(['req', '-new', ...EC, '-subj', leaf ? `/CN=${user}` : `/CN=intermediate-${i}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
      run(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          issuer.certFile,
          '-CAkey',
          issuer.keyFile,
          '-set_serial',
          String(1000 + i),
          '-days',
          '1',
        ].concat(['-extfile', ext, '-extensions', leaf ? 'leaf' : 'ca', '-out', `${name}.pem`]),
      );
      issuer = {
        key: readFileSync(path.join(dir, `${name}.key`), 'utf8'),
        cert: readFileSync(path.join(dir, `${name}.pem`), 'utf8'),
        keyFile: path.join(dir, `${name}.key`),
        certFile: path.join(dir, `${name}.pem`),
      };
      if (!leaf) chain.unshift(issuer.cert);
    }
    return { ...issuer, cert: [issuer.cert, ...chain].join('') };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
