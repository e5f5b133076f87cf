// The reader keeps long values of bulk arguments as bytes (json-bulk.ts): which strings become bytes, that
// the bytes are the string's characters whatever the chunking, and that they go back to the pool.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BULK_ARGUMENTS } from './commands.js';
import { BULK_CHUNK_BYTES, BulkString } from './json-bulk.js';
import { type JsonEvent, JsonStreamReader } from './json-stream.js';
import type { JsonObject } from './json-value.js';
import { SpareBuffers } from './spare-buffers.js';

/** Reads `text` in chunks of `size`; the handler looks at each value while it is valid (before release). */
function readBulk(text: string, size: number, look: (v: JsonObject) => void, spares = new SpareBuffers(8 << 20)): SpareBuffers {
  const r = new JsonStreamReader(
    (ev: JsonEvent) => {
      assert.ok('value' in ev, 'error' in ev ? ev.error : '');
      look(ev.value as JsonObject);
    },
    undefined,
    { bulk: { keys: BULK_ARGUMENTS, spares } },
  );
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) r.feed(bytes.subarray(at, at + size));
  r.release();
  return spares;
}

const args = (v: JsonObject) => v.arguments as JsonObject;
const b64 = Buffer.alloc(BULK_CHUNK_BYTES + 5000, 0x5a).toString('base64');

describe('bulk strings', () => {
  it('the command table marks input-data and buf-b64, nothing that another command reads as text', () => {
    assert.deepEqual([...BULK_ARGUMENTS].sort(), ['buf-b64', 'input-data']);
  });

  it('a long bulk argument is bytes equal to its text, for any chunking; short ones and other members stay strings', () => {
    for (const size of [1000, 65536, 1 << 20]) {
      const text = `{"execute":"guest-exec","arguments":{"path":"/bin/cat","input-data":"${b64}","note":"${b64}"}}{"execute":"guest-file-write","arguments":{"handle":1,"buf-b64":"QUJD"}}`;
      const seen: unknown[] = [];
      readBulk(text, size, (v) => {
        const a = args(v);
        const data = a['input-data'] ?? a['buf-b64'];
        if (data instanceof BulkString) {
          assert.equal(data.length, b64.length);
          assert.equal(data.toString(), b64);
          assert.equal(a.note, b64, 'another member: a string');
        }
        seen.push(data instanceof BulkString ? 'bulk' : data);
      });
      assert.deepEqual(seen, ['bulk', 'QUJD'], `chunks of ${size}`);
    }
  });

  it('only as a direct member of the top-level arguments', () => {
    const text = `{"execute":"x","input-data":"${b64}","arguments":{"a":{"input-data":"${b64}"},"b":["${b64}"]}}`;
    readBulk(text, 65536, (v) => {
      assert.equal(typeof v['input-data'], 'string');
      assert.equal(typeof (args(v).a as JsonObject)['input-data'], 'string');
      assert.equal(typeof (args(v).b as string[])[0], 'string');
    });
  });

  it('escapes are decoded into the bytes; a character beyond Latin-1 makes it a string again', () => {
    const escaped = `${b64.slice(0, 9000)}\\n\\u0041${b64.slice(9000)}`;
    const expect = `${b64.slice(0, 9000)}\nA${b64.slice(9000)}`;
    readBulk(`{"arguments":{"buf-b64":"${escaped}"}}`, 4096, (v) => {
      const d = args(v)['buf-b64'];
      assert.ok(d instanceof BulkString);
      assert.equal(d.toString(), expect);
    });
    const wide = `${b64}\\u20ac${b64.slice(0, 100)}`;
    readBulk(`{"arguments":{"buf-b64":"${wide}"}}`, 4096, (v) => assert.equal(args(v)['buf-b64'], `${b64}\u20ac${b64.slice(0, 100)}`));
  });

  it('the chunks go back to the pool once released, and a released string cannot be read', () => {
    let kept: BulkString | undefined;
    const spares = readBulk(`{"arguments":{"input-data":"${b64}"}}`, 65536, (v) => {
      kept = args(v)['input-data'] as BulkString;
    });
    assert.ok(kept?.released);
    assert.equal(spares.spareBytes, 2 * BULK_CHUNK_BYTES);
    assert.throws(() => kept?.toString(), /after its request was done/);
    // The next request takes them again: nothing new is kept.
    readBulk(`{"arguments":{"input-data":"${b64}"}}`, 65536, () => {}, spares);
    assert.equal(spares.spareBytes, 2 * BULK_CHUNK_BYTES);
  });

  it('a message that fails to parse gives its chunks back too', () => {
    const spares = new SpareBuffers(8 << 20);
    const r = new JsonStreamReader(() => {}, undefined, { bulk: { keys: BULK_ARGUMENTS, spares } });
    r.feed(Buffer.from(`{"arguments":{"input-data":"${b64}"} ]}`));
    r.release();
    assert.equal(spares.spareBytes, 2 * BULK_CHUNK_BYTES);
  });
});
