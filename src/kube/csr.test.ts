// The hand-written PKCS#10 encoder checked by OpenSSL (signature, subject, SANs), and the reader
// that the self-approval check relies on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { buildCsr, canonicalIp, generateOperationalKey, ipBytes, ipText, parseCsr, pem } from './csr.js';
import { objectId, oidText, readElement } from './der.js';

const subject = { nodeName: 'worker-1', dnsNames: ['worker-1', 'worker-1.lab'], ips: ['10.0.0.7', 'fd00::7', '127.0.0.1'] };

test('openssl req -verify accepts the request and reads back its subject, key and SANs', () => {
  const key = generateOperationalKey();
  const text = pem('CERTIFICATE REQUEST', buildCsr(key, subject));
  const out = execFileSync('openssl', ['req', '-verify', '-noout', '-text'], { input: text, encoding: 'utf8', stdio: 'pipe' });
  assert.match(out, /Subject: O\s?=\s?system:nodes, CN\s?=\s?system:node:worker-1/);
  assert.match(out, /ASN1 OID: prime256v1/);
  assert.match(out, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(out, /DNS:worker-1, DNS:worker-1\.lab, IP Address:10\.0\.0\.7, IP Address:FD00:0:0:0:0:0:0:7, IP Address:127\.0\.0\.1/);
  const verified = execFileSync('openssl', ['req', '-verify', '-noout'], { input: text, encoding: 'utf8', stdio: 'pipe' });
  assert.doesNotMatch(verified, /fail/i);
  // The public key in the request is ours.
  const theirs = execFileSync('openssl', ['req', '-pubkey', '-noout'], { input: text, encoding: 'utf8', stdio: 'pipe' });
  assert.equal(theirs, createPublicKey(key).export({ type: 'spki', format: 'pem' }));
});

test('parseCsr reads back what buildCsr wrote; a request from openssl parses the same way', () => {
  const key = generateOperationalKey();
  const der = buildCsr(key, subject);
  const p = parseCsr(pem('CERTIFICATE REQUEST', der));
  assert.equal(p.commonName, 'system:node:worker-1');
  assert.deepEqual(p.organizations, ['system:nodes']);
  assert.deepEqual(p.dnsNames, ['worker-1', 'worker-1.lab']);
  assert.deepEqual(p.ips, ['10.0.0.7', 'fd00::7', '127.0.0.1']);
  assert.equal(p.otherNames, 0);
  assert.deepEqual(p.publicKey, createPublicKey(key).export({ type: 'spki', format: 'der' }));
  const foreign = execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-subj',
      '/O=system:nodes/O=evil/CN=system:node:other',
      '-addext',
      'subjectAltName=DNS:other,IP:10.9.9.9,email:a@b.c',
    ],
    { encoding: 'utf8', stdio: 'pipe' },
  );
  const f = parseCsr(foreign);
  assert.equal(f.commonName, 'system:node:other');
  assert.deepEqual(f.organizations, ['system:nodes', 'evil']);
  assert.deepEqual(f.dnsNames, ['other']);
  assert.deepEqual(f.ips, ['10.9.9.9']);
  assert.equal(f.otherNames, 1);
});

test('IP addresses: bytes and text both ways, IPv6 compressed as RFC 5952 writes it', () => {
  assert.deepEqual([...ipBytes('192.168.1.20')], [192, 168, 1, 20]);
  for (const [given, canonical] of [
    ['::1', '::1'],
    ['0:0:0::1', '::1'],
    ['fd00:0:0:0:0:0:0:7', 'fd00::7'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ])
    assert.equal(canonicalIp(given as string), canonical, given);
  assert.throws(() => ipBytes('not-an-ip'), /not an IP address/);
  assert.throws(() => ipText(Buffer.alloc(5)), /5 bytes/);
});

test('malformed DER is refused with KUBE_CSR, never read past its end', () => {
  const der = buildCsr(generateOperationalKey(), subject);
  for (const cut of [1, 2, 10, der.length - 1])
    assert.throws(
      () => parseCsr(der.subarray(0, cut)),
      (e: Error & { code?: string }) => e.code === 'KUBE_CSR',
    );
  assert.throws(() => parseCsr(Buffer.concat([der, Buffer.from([0])])), /single DER SEQUENCE/);
  // Indefinite length (BER, not DER) and a non-minimal length.
  assert.throws(() => readElement(Buffer.from([0x30, 0x80, 0, 0])), /indefinite/);
  assert.throws(() => readElement(Buffer.from([0x04, 0x81, 0x01, 0x00])), /non-minimal/);
  assert.throws(() => parseCsr('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'), /no CERTIFICATE REQUEST PEM block/);
});

test('OIDs encode and decode, multi-byte arcs included', () => {
  for (const oid of ['1.2.840.10045.4.3.2', '2.5.29.17', '1.2.840.113549.1.9.14', '2.999.3'])
    assert.equal(oidText(readElement(objectId(oid)).content), oid);
});
