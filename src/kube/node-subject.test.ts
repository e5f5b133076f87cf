// What the certificate names: the Node's addresses when it lists them, the back end's otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { KubeApi, NodeObject } from './api.js';
import { nodeSubject } from './node-subject.js';

const api = (node: NodeObject | Error) =>
  ({ getNode: async () => (node instanceof Error ? Promise.reject(node) : node) }) as unknown as KubeApi;
const base = { nodeName: 'w1', log: pino({ level: 'silent' }), timeoutMs: 100, backendAddresses: async () => ['192.168.9.9', 'FD00:0::9'] };

test("the Node object's InternalIP/ExternalIP and Hostname; the host name when it is a DNS name", async () => {
  const node: NodeObject = {
    metadata: { name: 'w1', uid: 'u' },
    status: {
      addresses: [
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'ExternalIP', address: '2001:db8:0:0::1' },
        { type: 'Hostname', address: 'w1.lab' },
        { type: 'InternalDNS', address: 'ignored.internal' },
      ],
    },
  };
  assert.deepEqual(await nodeSubject({ ...base, hostName: 'W1-Host', nodes: api(node) }), {
    nodeName: 'w1',
    dnsNames: ['w1', 'w1.lab', 'w1-host'],
    ips: ['10.0.0.1', '2001:db8::1'],
  });
});

test("no Node addresses (or no Node): the back end's; a host name that is not a DNS name is left out", async () => {
  assert.deepEqual(await nodeSubject({ ...base, hostName: 'bad_name', nodes: api(new Error('403')) }), {
    nodeName: 'w1',
    dnsNames: ['w1'],
    ips: ['192.168.9.9', 'fd00::9'],
  });
});
