// A self-signed P-256 certificate for 127.0.0.1 and localhost, made with the openssl CLI, for the
// HTTPS doubles (Kubernetes API, Proxmox VE API): clients are tested with TLS verification on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface SelfSigned {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

/** Writes `<name>.key` and `<name>.pem` into `dir` (valid one day, subject CN=`cn`). */
export function selfSignedCert(dir: string, name: string, cn: string): SelfSigned {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];
  args.push('-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile);
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), keyFile, certFile };
}
