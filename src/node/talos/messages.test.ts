import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeLoadAvg,
  decodeMemory,
  decodeMounts,
  decodeResourceReply,
  decodeVersion,
  encodeGetRequest,
  encodeListRequest,
  encodeRebootRequest,
  encodeShutdownRequest,
  metadataError,
  replyMessages,
} from './messages.js';
import { ProtoMessage, ProtoWriter } from './proto-wire.js';

test('RebootRequest.mode is field 1: DEFAULT is empty, POWERCYCLE 08 01', () => {
  assert.equal(encodeRebootRequest('default').length, 0);
  assert.deepEqual([...encodeRebootRequest('powercycle')], [0x08, 0x01]);
  assert.deepEqual([...encodeShutdownRequest(false)], []);
});

test('cosi GetRequest and ListRequest put namespace, type, id in fields 1, 2, 3', () => {
  const g = ProtoMessage.decode(encodeGetRequest('network', 'HostnameStatuses.net.talos.dev', 'hostname'));
  assert.deepEqual([g.string(1), g.string(2), g.string(3)], ['network', 'HostnameStatuses.net.talos.dev', 'hostname']);
  const l = ProtoMessage.decode(encodeListRequest('network', 'LinkStatuses.net.talos.dev'));
  assert.deepEqual([l.string(1), l.string(2), l.string(3)], ['network', 'LinkStatuses.net.talos.dev', '']);
});

test('VersionResponse -> Version{version{tag, arch}, platform{name}}', () => {
  const reply = new ProtoWriter()
    .message(
      1,
      new ProtoWriter()
        .message(2, new ProtoWriter().string(1, 'v1.14.0').string(2, 'sha').string(6, 'amd64'))
        .message(3, new ProtoWriter().string(1, 'metal').string(2, 'metal')),
    )
    .finish();
  const [v] = replyMessages(ProtoMessage.decode(reply));
  assert.ok(v);
  assert.deepEqual(decodeVersion(v), { tag: 'v1.14.0', arch: 'amd64', platform: 'metal' });
});

test('LoadAvg doubles in fields 2-4; MemInfo in field 2; MountStat fields 1-4', () => {
  assert.deepEqual(decodeLoadAvg(ProtoMessage.decode(new ProtoWriter().double(2, 0.1).double(3, 0.2).double(4, 0.3).finish())), {
    load1: 0.1,
    load5: 0.2,
    load15: 0.3,
  });
  const mem = new ProtoWriter().message(2, new ProtoWriter().uint(1, 4028440).uint(2, 100).uint(3, 2000)).finish();
  assert.deepEqual(decodeMemory(ProtoMessage.decode(mem)), { totalKiB: 4028440n, freeKiB: 100n, availableKiB: 2000n });
  const mounts = new ProtoWriter()
    .message(2, new ProtoWriter().string(1, '/dev/sda6').uint(2, 42949672960).uint(3, 1).string(4, '/var'))
    .finish();
  assert.deepEqual(decodeMounts(ProtoMessage.decode(mounts)), [
    { filesystem: '/dev/sda6', size: 42949672960n, available: 1n, mountedOn: '/var' },
  ]);
});

test("a node's failure folded into common.Metadata (error = 2, or status = 3) is reported", () => {
  const withError = ProtoMessage.decode(
    new ProtoWriter().message(1, new ProtoWriter().string(1, 'n1').string(2, 'rpc error: boom')).finish(),
  );
  assert.equal(metadataError(withError), 'rpc error: boom');
  const withStatus = ProtoMessage.decode(
    new ProtoWriter().message(1, new ProtoWriter().message(3, new ProtoWriter().uint(1, 14).string(2, 'unavailable'))).finish(),
  );
  assert.equal(metadataError(withStatus), 'unavailable');
  assert.equal(metadataError(ProtoMessage.decode(new ProtoWriter().message(1, new ProtoWriter().string(1, 'n1')).finish())), undefined);
});

test('Resource{metadata{namespace,type,id}, spec{yaml_spec = 2}} from a Get/List reply', () => {
  const res = new ProtoWriter()
    .message(1, new ProtoWriter().string(1, 'network').string(2, 'LinkStatuses.net.talos.dev').string(3, 'eth0').string(4, '3'))
    .message(2, new ProtoWriter().bytes(1, Buffer.from([1, 2])).string(2, 'index: 2\n'));
  const r = decodeResourceReply(ProtoMessage.decode(new ProtoWriter().message(1, res).finish()));
  assert.deepEqual(r, { namespace: 'network', type: 'LinkStatuses.net.talos.dev', id: 'eth0', yamlSpec: 'index: 2\n' });
  assert.equal(decodeResourceReply(ProtoMessage.decode(Buffer.alloc(0))), undefined);
});
