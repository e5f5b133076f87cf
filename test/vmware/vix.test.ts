// Vix_1_Relayed_Command through the TCLO service (govmomi TestVixRelayedCommandHandler, vix
// TestToolsStateProperties): GetToolsState answers with the tools and OS properties; everything else
// is refused in VIX's own form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeVixProperties,
  encodeVixRequest,
  VIX_COMMAND_GET_TOOLS_STATE,
  VIX_GUEST_RETURNS_BINARY,
  VIX_PROPERTY,
} from '../../src/protocol/vmware/vix.js';
import { startFixture } from './fixture.js';

const relayed = (body: Buffer) => Buffer.concat([Buffer.from('Vix_1_Relayed_Command ', 'latin1'), body]);

test('GetToolsState (opcode 62): OK 0 0 <base64 properties>\\0', async (t) => {
  const { vmx, fe } = startFixture();
  t.after(() => fe.stop());
  await fe.start();
  vmx.play(relayed(encodeVixRequest('req1', { opCode: VIX_COMMAND_GET_TOOLS_STATE })));
  await vmx.until(() => vmx.replies.length === 1);
  const reply = vmx.replies[0]?.reply ?? '';
  const m = reply.match(/^OK 0 0 ([A-Za-z0-9+/=]+)\0$/);
  assert.ok(m, JSON.stringify(reply));
  const props = decodeVixProperties(Buffer.from(m[1] ?? '', 'base64'));
  const byId = new Map(props.map((p) => [p.id, p.value]));
  assert.equal(byId.get(VIX_PROPERTY.osVersion), 'Talos (v1.9.0)');
  assert.equal(byId.get(VIX_PROPERTY.osVersionShort), 'other6xlinux-64');
  assert.equal(byId.get(VIX_PROPERTY.guestName), 'node1');
  assert.equal(byId.get(VIX_PROPERTY.toolsVersion), '0.1.0-test');
  assert.equal(byId.get(VIX_PROPERTY.toolsProductName), 'guestlink');
});

test('VIX errors in VIX form: other opcodes 3025, bad magic and short headers 10000; binary replies use #', async (t) => {
  const { vmx, fe } = startFixture();
  t.after(() => fe.stop());
  await fe.start();
  vmx.play(
    relayed(encodeVixRequest('r2', { opCode: 185 })), // StartProgram: not offered
    relayed(encodeVixRequest('r3', { opCode: VIX_COMMAND_GET_TOOLS_STATE, magic: 0x1234 })),
    relayed(Buffer.from('"r4"\0short', 'latin1')),
    relayed(encodeVixRequest('r5', { opCode: 185, commonFlags: VIX_GUEST_RETURNS_BINARY })),
    'Vix_1_Relayed_Command',
  );
  await vmx.until(() => vmx.replies.length === 5);
  assert.deepEqual(
    vmx.replies.map((r) => r.reply),
    ['OK 3025 0 \0', 'OK 10000 0 \0', 'OK 10000 0 \0', 'OK 3025 0 #', 'OK 10000 0 \0'],
  );
});
