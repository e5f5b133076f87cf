import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeGuestNicProto,
  encodeGuestNicProto,
  type GuestNicProto,
  type GuestNicV3,
  IAS_PREFERRED,
  NICINFO_MAX_NICS,
  typedIpAddress,
} from './nicinfo-xdr.js';
import { GUEST_INFO, setGuestInfo } from './rpci.js';

// The vector of /work/shared/facts/vmware.md (derived from nicinfo.x, not captured from a VMX).
const VECTOR =
  '5365744775657374496e666f20203130200000000300000001000000010000001130303a35303a35363a61613a62623a6363000000000000010000000100000004c0a8010a0000001800000000000000010000000100000000000000000000000000000000000000000000000100000001000000056e6f646531000000000000000000000000000000000000000000000000000000';

const ONE_NIC: GuestNicProto = {
  version: 3,
  v3: {
    nics: [
      {
        macAddress: '00:50:56:aa:bb:cc',
        ips: [{ address: { type: 1, address: Buffer.from([192, 168, 1, 10]) }, prefixLength: 24, status: IAS_PREFERRED }],
      },
    ],
    routes: [],
    dns: { hostName: 'node1', servers: [], searchSuffixes: [] },
  },
};

test('the facts vector, byte for byte: SetGuestInfo  10 + NIC info v3 of one NIC', () => {
  const msg = setGuestInfo(GUEST_INFO.ipAddressV3, encodeGuestNicProto(ONE_NIC));
  assert.equal(msg.length, 149);
  assert.equal(msg.toString('hex'), VECTOR);
});

test('the facts vector decodes to what was encoded', () => {
  const body = Buffer.from(VECTOR, 'hex').subarray('SetGuestInfo  10 '.length);
  assert.deepEqual(decodeGuestNicProto(body), ONE_NIC);
});

const typed = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => ({ type: 1, address: Buffer.from(a) })),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => ({ type: 2, address: Buffer.from(a) })),
);
const dns = fc.record(
  {
    hostName: fc.string({ maxLength: 40 }),
    domainName: fc.string({ maxLength: 40 }),
    servers: fc.array(typed, { maxLength: 3 }),
    searchSuffixes: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
  },
  { noNullPrototype: true, requiredKeys: ['servers', 'searchSuffixes'] },
);
const dhcp = fc.record({ enabled: fc.boolean(), settings: fc.string({ maxLength: 30 }) }, { noNullPrototype: true });
const wins = fc.record({ primary: typed, secondary: typed }, { noNullPrototype: true });
const resolvers = { dns, wins, dhcpv4: dhcp, dhcpv6: dhcp };
const nic = fc.record(
  {
    macAddress: fc.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/),
    ips: fc.array(
      fc.record(
        {
          address: typed,
          prefixLength: fc.integer({ min: 0, max: 128 }),
          origin: fc.integer({ min: 1, max: 6 }),
          status: fc.integer({ min: 1, max: 8 }),
        },
        { noNullPrototype: true, requiredKeys: ['address', 'prefixLength'] },
      ),
      { maxLength: 4 },
    ),
    ...resolvers,
  },
  { noNullPrototype: true, requiredKeys: ['macAddress', 'ips'] },
);
const route = fc.record(
  {
    dest: typed,
    prefixLength: fc.integer({ min: 0, max: 128 }),
    nextHop: typed,
    ifIndex: fc.nat(15),
    type: fc.integer({ min: 1, max: 4 }),
    metric: fc.nat(),
  },
  { noNullPrototype: true, requiredKeys: ['dest', 'prefixLength', 'ifIndex', 'type', 'metric'] },
);
const proto = fc.record(
  {
    version: fc.constant(3 as const),
    v3: fc.record(
      { nics: fc.array(nic, { maxLength: NICINFO_MAX_NICS }), routes: fc.array(route, { maxLength: 5 }), ...resolvers },
      {
        noNullPrototype: true,
        requiredKeys: ['nics', 'routes'],
      },
    ),
  },
  { noNullPrototype: true, requiredKeys: ['version'] },
);

test('round trip: decode(encode(x)) equals x, and encoding is 4-byte aligned', () => {
  fc.assert(
    fc.property(proto, (p) => {
      const bytes = encodeGuestNicProto(p as GuestNicProto);
      assert.equal(bytes.length % 4, 0);
      assert.deepEqual(decodeGuestNicProto(bytes), p);
    }),
    { numRuns: 200 },
  );
});

test('the 16-NIC cap: 16 encode, 17 are refused on encode and on decode', () => {
  const nicOf = (i: number): GuestNicV3 => ({ macAddress: `00:50:56:00:00:${i.toString(16).padStart(2, '0')}`, ips: [] });
  const p16: GuestNicProto = { version: 3, v3: { nics: Array.from({ length: 16 }, (_, i) => nicOf(i)), routes: [] } };
  assert.equal(decodeGuestNicProto(encodeGuestNicProto(p16)).v3?.nics.length, 16);
  const p17: GuestNicProto = { version: 3, v3: { nics: Array.from({ length: 17 }, (_, i) => nicOf(i)), routes: [] } };
  assert.throws(() => encodeGuestNicProto(p17), { code: 'XDR_LIMIT', message: /17 NICs; nicinfo.x allows 16/ });
  // A 17-NIC message forged by hand: the count word sits after version and presence.
  const forged = encodeGuestNicProto(p16);
  const extra = encodeGuestNicProto({ version: 3, v3: { nics: [nicOf(16)], routes: [] } }).subarray(12, 12 + 24);
  const bytes = Buffer.concat([forged.subarray(0, 12 + 16 * 24), extra, forged.subarray(12 + 16 * 24)]);
  bytes.writeUInt32BE(17, 8);
  assert.throws(() => decodeGuestNicProto(bytes), { code: 'XDR_DECODE', message: /17 NICs/ });
});

test('bad input is refused with the reason: truncated, trailing bytes, unknown version, a MAC over 18 bytes', () => {
  const good = encodeGuestNicProto(ONE_NIC);
  assert.throws(() => decodeGuestNicProto(good.subarray(0, good.length - 3)), { code: 'XDR_DECODE', message: /ends inside/ });
  assert.throws(() => decodeGuestNicProto(Buffer.concat([good, Buffer.alloc(4)])), { code: 'XDR_DECODE', message: /4 bytes left/ });
  const v2 = Buffer.from(good);
  v2.writeInt32BE(2, 0);
  assert.throws(() => decodeGuestNicProto(v2), { code: 'XDR_DECODE', message: /version 2/ });
  assert.throws(() => encodeGuestNicProto({ version: 3, v3: { nics: [{ macAddress: 'x'.repeat(19), ips: [] }], routes: [] } }), {
    code: 'XDR_LIMIT',
  });
});

test('typedIpAddress: IPv4, IPv6 with ::, an IPv4 tail and a zone; garbage refused', () => {
  assert.deepEqual(typedIpAddress('10.1.2.3'), { type: 1, address: Buffer.from([10, 1, 2, 3]) });
  assert.equal(typedIpAddress('fe80::1%eth0').address.toString('hex'), 'fe800000000000000000000000000001');
  assert.equal(typedIpAddress('::').address.toString('hex'), '0'.repeat(32));
  assert.equal(typedIpAddress('::ffff:1.2.3.4').address.toString('hex'), '00000000000000000000ffff01020304');
  assert.equal(typedIpAddress('2001:db8:0:0:0:0:0:2').address.toString('hex'), '20010db8000000000000000000000002');
  for (const bad of ['1.2.3', '256.1.1.1', '1::2::3', 'zz::1', '1:2:3:4:5:6:7:8:9', 'host'])
    assert.throws(() => typedIpAddress(bad), { code: 'XDR_LIMIT' });
});
