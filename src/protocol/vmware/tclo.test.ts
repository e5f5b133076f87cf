import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRpciReply, setGuestInfo, stateChangeStatus } from './rpci.js';
import { MAX_POLL_TICKS, nextPollDelay, parseSetOption, parseTcloRequest, resetReply, tcloReply, UNKNOWN_COMMAND_REPLY } from './tclo.js';

test('TCLO requests split at the first space; NUL terminators are not part of the name', () => {
  assert.deepEqual(parseTcloRequest(Buffer.from('reset')), { name: 'reset', args: Buffer.alloc(0) });
  const r = parseTcloRequest(Buffer.from('Set_Option broadcastIP 1'));
  assert.equal(r.name, 'Set_Option');
  assert.equal(r.args.toString(), 'broadcastIP 1');
  assert.equal(parseTcloRequest(Buffer.from('ping\0')).name, 'ping');
});

test('replies: OK / ERROR words, reset names the loop, unknown commands', () => {
  assert.equal(tcloReply(true).toString(), 'OK ');
  assert.equal(tcloReply(false, 'x').toString(), 'ERROR x');
  assert.equal(resetReply().toString(), 'OK ATR toolbox');
  assert.equal(UNKNOWN_COMMAND_REPLY.toString(), 'ERROR Unknown Command');
});

test('Set_Option without a value does not throw (talos-vmtoolsd panics there)', () => {
  assert.deepEqual(parseSetOption(Buffer.from('broadcastIP 1')), { key: 'broadcastIP', value: '1' });
  assert.deepEqual(parseSetOption(Buffer.from('broadcastIP')), { key: 'broadcastIP', value: '' });
  assert.deepEqual(parseSetOption(Buffer.alloc(0)), { key: '', value: '' });
});

test('poll back-off doubles from 1 tick to 10 and never beyond (govmomi: "verify we don\'t set delay > maxDelay")', () => {
  const seq: number[] = [];
  let d = 0;
  for (let i = 0; i < MAX_POLL_TICKS + 2; i++) seq.push((d = nextPollDelay(d)));
  assert.deepEqual(seq.slice(0, 6), [1, 2, 4, 8, 10, 10]);
  assert.equal(d, MAX_POLL_TICKS);
});

test('RPCI formats: two spaces after SetGuestInfo, statechange with a NUL, replies 1/0', () => {
  assert.equal(setGuestInfo(7, '12345').toString(), 'SetGuestInfo  7 12345');
  assert.equal(stateChangeStatus(true, 2).toString(), 'tools.os.statechange.status 1 2\0');
  assert.equal(parseRpciReply(Buffer.from('x'), Buffer.from('1 ok')).toString(), 'ok');
  assert.throws(() => parseRpciReply(Buffer.from('x'), Buffer.from('0 nope')), { code: 'RPCI_REFUSED' });
  assert.throws(() => parseRpciReply(Buffer.from('x'), Buffer.from('1')), { code: 'RPCI_BAD_REPLY' });
});
