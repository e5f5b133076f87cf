// The canonical emitter and the schematic decoder against vectors produced by go-yaml itself
// (scripts/goyaml-oracle): the bytes the Image Factory hashes, for 2,000+ strings in every place a
// schematic holds text, 100 schematic files through the decoder, and float spellings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatGoFloat } from '../../../src/provision/talos/goyaml/represent.js';
import { canonicalYaml, emptySchematic, schematicId } from '../../../src/provision/talos/schematic.js';
import { decodeSchematic } from '../../../src/provision/talos/schematic-decode.js';

interface Vectors {
  strings: [string, string][];
  decode: { in: string; yaml?: string; id?: string; error?: string }[];
  floats: [string, string][];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../../../test/provision/talos/fixtures/goyaml-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

test('every string comes out as go-yaml writes it, in a sequence, a nested mapping, a map key and a value', () => {
  assert.ok(vectors.strings.length > 2000);
  const wrong: string[] = [];
  for (const [s, id] of vectors.strings) {
    const sc = emptySchematic();
    sc.overlay.image = s;
    sc.overlay.name = 'n';
    sc.overlay.options = new Map([[s, { t: 'str', v: s }]]);
    sc.customization.extraKernelArgs = [s];
    sc.customization.meta = [{ key: 10, value: s }];
    const yaml = canonicalYaml(sc);
    if (schematicId(yaml) !== id) wrong.push(`${JSON.stringify(s)} -> ${JSON.stringify(yaml)}`);
  }
  assert.deepEqual(wrong, []);
});

// Inputs guestlink refuses on purpose although go-yaml accepts them (docs/talos-images.md says why).
const REFUSED_ON_PURPOSE = [/<</, /\n---\n/, /!!int/, /!custom/];

test('schematic files decode to the same canonical bytes, and the same ones are refused', () => {
  let compared = 0;
  for (const v of vectors.decode) {
    let yaml: string | undefined;
    let error: string | undefined;
    try {
      yaml = canonicalYaml(decodeSchematic(v.in, 'f'));
    } catch (e) {
      error = (e as Error).message;
    }
    if (v.error !== undefined) {
      assert.ok(error !== undefined, `go-yaml refuses ${JSON.stringify(v.in)} (${v.error}); we produced ${JSON.stringify(yaml)}`);
      continue;
    }
    if (error !== undefined && REFUSED_ON_PURPOSE.some((r) => r.test(v.in))) continue;
    assert.equal(yaml, v.yaml, `decoding ${JSON.stringify(v.in)}${error ? ` failed: ${error}` : ''}`);
    assert.equal(schematicId(yaml as string), v.id);
    compared++;
  }
  assert.ok(compared > 50);
});

test('the decoder words its refusals as go-yaml does, with the line', () => {
  for (const v of vectors.decode.filter((d) => d.error?.startsWith('yaml: construct errors: '))) {
    try {
      decodeSchematic(v.in, 'f');
      assert.fail(`accepted ${JSON.stringify(v.in)}`);
    } catch (e) {
      const go = (v.error as string).replace('yaml: construct errors: ', '').replace(/main\.(schematic|customization|meta|extensions)/, '');
      const ours = (e as { goMessage?: string }).goMessage ?? '';
      assert.equal(ours.replace(/schematic\.(Schematic|Customization|MetaValue|SystemExtensions)/, ''), go, JSON.stringify(v.in));
    }
  }
});

test('floats are spelled as strconv.FormatFloat(f, g, -1, 64)', () => {
  for (const [s, yaml] of vectors.floats) assert.equal(`v: ${formatGoFloat(Number(s))}\n`, yaml, s);
});
