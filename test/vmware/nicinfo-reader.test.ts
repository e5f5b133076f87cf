// The VMX double's independent NIC info reader, checked against the vector in the VMware facts
// (derived from nicinfo.x, not captured from the agent): one NIC, 192.168.1.10/24 preferred, node1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readNicInfo } from '../doubles/nicinfo-reader.js';

const VECTOR =
  '5365744775657374496e666f20203130200000000300000001000000010000001130303a35303a35363a61613a62623a6363000000000000010000000100000004c0a8010a0000001800000000000000010000000100000000000000000000000000000000000000000000000100000001000000056e6f646531000000000000000000000000000000000000000000000000000000';

test('the double reads the published NIC info vector', () => {
  const message = Buffer.from(VECTOR, 'hex');
  const prefix = 'SetGuestInfo  10 ';
  assert.equal(message.subarray(0, prefix.length).toString('latin1'), prefix);
  const seen = readNicInfo(message.subarray(prefix.length));
  assert.equal(seen.nics.length, 1);
  assert.equal(seen.nics[0]?.mac, '00:50:56:aa:bb:cc');
  assert.deepEqual(seen.nics[0]?.ips, [{ family: 'ipv4', text: '192.168.1.10', prefix: 24, status: 1 }]);
  assert.equal(seen.dnsHost, 'node1');
  assert.deepEqual(seen.routes, []);
});

test('the double refuses what nicinfo.x does not allow', () => {
  const body = Buffer.from(VECTOR, 'hex').subarray('SetGuestInfo  10 '.length);
  assert.throws(() => readNicInfo(body.subarray(0, body.length - 4)), /truncated/);
  assert.throws(() => readNicInfo(Buffer.concat([body, Buffer.alloc(4)])), /bytes left/);
  const v2 = Buffer.from(body);
  v2.writeUInt32BE(2, 0);
  assert.throws(() => readNicInfo(v2), /version 2/);
});
