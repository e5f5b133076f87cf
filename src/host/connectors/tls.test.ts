// node:// accepts only the named node's certificate: the host name check and, beyond it, the CN.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { checkIdentity } from './tls.js';

function cert(subject: string, san: string): PeerCertificate {
  const pem = execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '/dev/null', '-days', '1'].concat([
      '-subj',
      subject,
      '-addext',
      `subjectAltName=${san}`,
    ]),
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const x = new X509Certificate(pem);
  return { raw: x.raw, subject: {}, subjectaltname: x.subjectAltName } as unknown as PeerCertificate;
}

test('a certificate naming the node in its SANs but issued to another node (CN) is refused', () => {
  const check = checkIdentity({ host: '10.0.0.2', port: 10280, servername: 'n2', node: 'n2' });
  assert.equal(check('n2', cert('/O=system:nodes/CN=system:node:n2', 'DNS:n2,IP:10.0.0.2')), undefined);
  assert.match(
    String(check('n2', cert('/O=system:nodes/CN=system:node:n1', 'DNS:n2,DNS:n1'))),
    /certificate for CN=system:node:n1, not for node n2/,
  );
  assert.match(String(check('n2', cert('/O=system:nodes/CN=system:node:n2', 'DNS:n3'))), /not in the cert's altnames/);
  // tls:// checks the host name or IP only.
  assert.equal(
    checkIdentity({ host: 'a.example', port: 1, servername: 'a.example' })('a.example', cert('/CN=whatever', 'DNS:a.example')),
    undefined,
  );
});
