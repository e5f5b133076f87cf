// Self approval approves exactly the agent's own request: every way a CSR can differ is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCsr, generateOperationalKey, pem } from './csr.js';
import type { CsrObject } from './identity-api.js';
import { checkOwnCsr, type OwnRequest } from './self-approval.js';

const subject = { nodeName: 'n1', dnsNames: ['n1', 'host-1'], ips: ['10.0.0.1', 'fd00::1'] };

function own(): { own: OwnRequest; csr: CsrObject } {
  const key = generateOperationalKey();
  const request = Buffer.from(pem('CERTIFICATE REQUEST', buildCsr(key, subject))).toString('base64');
  const o: OwnRequest = {
    name: 'guestlink-n1-abcde',
    uid: 'uid-1',
    username: 'system:serviceaccount:guestlink:guestlink',
    signerName: 'kubernetes.io/kubelet-serving',
    usages: ['digital signature', 'server auth'],
    key,
    subject,
  };
  const csr: CsrObject = {
    metadata: { name: o.name, uid: o.uid, resourceVersion: '7' },
    spec: { request, signerName: o.signerName, usages: ['server auth', 'digital signature'], username: o.username as string },
    status: {},
  };
  return { own: o, csr };
}

const foreignRequest = (s = subject) => Buffer.from(pem('CERTIFICATE REQUEST', buildCsr(generateOperationalKey(), s))).toString('base64');

test('its own request passes (usages in any order)', () => {
  const { own: o, csr } = own();
  checkOwnCsr(csr, o);
});

test('every difference is refused, naming it', () => {
  const cases: [string, (c: CsrObject, o: OwnRequest) => void, RegExp][] = [
    ['another name', (c) => (c.metadata.name = 'other'), /it is not guestlink-n1-abcde/],
    ['another uid (deleted and re-created)', (c) => (c.metadata.uid = 'uid-2'), /uid uid-2 is not uid-1/],
    ['another requester', (c) => (c.spec.username = 'system:node:n2'), /requested by system:node:n2/],
    [
      'another signer',
      (c) => (c.spec.signerName = 'kubernetes.io/kube-apiserver-client'),
      /signer is kubernetes.io\/kube-apiserver-client/,
    ],
    ['client auth added', (c) => (c.spec.usages = ['digital signature', 'server auth', 'client auth']), /usages/],
    ['already approved', (c) => (c.status = { conditions: [{ type: 'Approved', status: 'True' }] }), /already Approved/],
    ['another key, same names', (c) => (c.spec.request = foreignRequest()), /public key is not the key this node generated/],
    ['not a request', (c) => (c.spec.request = Buffer.from('hello').toString('base64')), /no CERTIFICATE REQUEST PEM block/],
  ];
  for (const [what, change, why] of cases) {
    const { own: o, csr } = own();
    change(csr, o);
    assert.throws(
      () => checkOwnCsr(csr, o),
      (e: Error & { code?: string }) => e.code === 'KUBE_CSR' && why.test(e.message),
      what,
    );
  }
});

test('same key but another node, extra SANs or missing SANs: refused', () => {
  for (const [what, s, why] of [
    ['another node', { ...subject, nodeName: 'control-plane-1' }, /names system:node:control-plane-1, not system:node:n1/],
    ['an extra IP', { ...subject, ips: [...subject.ips, '10.9.9.9'] }, /SANs .*IP:10\.9\.9\.9.* are not this node's/],
    ['a missing DNS name', { ...subject, dnsNames: ['n1'] }, /SANs .* are not this node's/],
  ] as const) {
    const { own: o, csr } = own();
    csr.spec.request = Buffer.from(pem('CERTIFICATE REQUEST', buildCsr(o.key, s))).toString('base64');
    assert.throws(() => checkOwnCsr(csr, o), why, what);
  }
});
