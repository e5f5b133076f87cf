// Schematic IDs: the Image Factory's own test vectors (pkg/schematic/schematic_test.go TestID and
// TestUnmarshalID), the public extension IDs, and two properties: the canonical form decodes and
// encodes back to the same bytes, and the order of keys in a file never changes the ID.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { canonicalYaml, emptySchematic, type Schematic, schematicId } from './schematic.js';
import { buildSchematic } from './schematic-build.js';
import { decodeSchematic } from './schematic-decode.js';

const id = (s: Schematic) => schematicId(canonicalYaml(s));

test("the factory's TestID vectors", () => {
  assert.equal(id(emptySchematic()), '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba');
  const args = emptySchematic();
  args.customization.extraKernelArgs = ['noapic', 'nolapic'];
  assert.equal(id(args), '9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c');
  const meta = emptySchematic();
  meta.customization.meta = [{ key: 0x0a, value: 'foo' }];
  assert.equal(id(meta), 'd308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f');
  const sb = emptySchematic();
  sb.customization.secureboot.includeWellKnownCertificates = true;
  assert.equal(id(sb), 'fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6');
  const disk = emptySchematic();
  disk.customization.diskImage.sectorSize = 4096n;
  assert.equal(id(disk), '92833e9ddd9bb9e11b2464fa5525429f01866306d52ebd882ee08d7918f6d1ea');
});

test("the factory's TestUnmarshalID vectors (files in JSON form)", () => {
  const cases: [string, string][] = [
    ['{}', '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba'],
    ['customization: {}', '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba'],
    ['customization: {"extraKernelArgs": []}', '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba'],
    ['{"customization": {"extraKernelArgs": ["noapic", "nolapic"]}}', '9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c'],
    [
      '{"customization": {"extraKernelArgs": ["noapic", "nolapic"], "systemExtensions": {}}}',
      '9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c',
    ],
    [
      '{"customization": {"meta": [{"key": 10, "value": "foo"}], "extraKernelArgs": [], "systemExtensions": {}}}',
      'd308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f',
    ],
    [
      '{"overlay": {"name": "rpi_generic", "image": "siderolabs/sbc-raspberrypi"}}',
      'ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9',
    ],
    [
      '{"overlay": {"name": "rpi_generic", "image": "siderolabs/sbc-raspberrypi"},"customization":{}}',
      'ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9',
    ],
    [
      '{"customization":{"secureboot": {"includeWellKnownCertificates": true}}}',
      'fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6',
    ],
  ];
  for (const [text, want] of cases) assert.equal(id(decodeSchematic(text)), want, text);
});

test('the public siderolabs/qemu-guest-agent ID, and flag extensions are sorted', () => {
  assert.equal(
    id(buildSchematic({ extensions: ['siderolabs/qemu-guest-agent'], kernelArgs: [], meta: [] })),
    'ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515',
  );
  const a = buildSchematic({ extensions: ['siderolabs/iscsi-tools', 'siderolabs/qemu-guest-agent'], kernelArgs: [], meta: [] });
  const b = buildSchematic({ extensions: ['siderolabs/qemu-guest-agent', 'siderolabs/iscsi-tools'], kernelArgs: [], meta: [] });
  assert.equal(id(a), id(b));
  assert.deepEqual(a.customization.systemExtensions.officialExtensions, ['siderolabs/iscsi-tools', 'siderolabs/qemu-guest-agent']);
  // A file keeps its order, as the factory would.
  const file = decodeSchematic(
    'customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/qemu-guest-agent, siderolabs/iscsi-tools]\n',
  );
  assert.notEqual(id(file), id(a));
  assert.throws(
    () => buildSchematic({ extensions: ['qemu-guest-agent'], kernelArgs: [], meta: [] }),
    /did you mean siderolabs\/qemu-guest-agent/,
  );
  assert.throws(() => buildSchematic({ extensions: ['siderolabs/x', 'siderolabs/x'], kernelArgs: [], meta: [] }), /twice/);
  assert.throws(() => buildSchematic({ extensions: [], kernelArgs: ['a b'], meta: [] }), /one argument per flag/);
});

// Text that schematic strings plausibly hold, and the characters that make go-yaml pick each style.
const text = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      'a',
      'Z',
      '0',
      '9',
      ' ',
      '\n',
      ':',
      '#',
      '-',
      '?',
      ',',
      '[',
      '{',
      '"',
      "'",
      '|',
      '>',
      '.',
      'é',
      '日',
      '\t',
      '~',
      '=',
      '/',
      '_',
    ),
  }),
  fc.string(),
  fc.constantFrom(
    'yes',
    'no',
    'true',
    '1',
    '0x10',
    '1:20',
    '~',
    'null',
    '',
    ' lead',
    'trail ',
    'a\n',
    'a\n\n',
    '\n',
    '---',
    'console=ttyS0',
  ),
);
const timestampLike = (s: string) => /^[0-9]{4}-/.test(s);
const schematicArb = fc
  .record({
    owner: text,
    image: text,
    name: text,
    options: fc.dictionary(
      text,
      fc.oneof(
        text.map((v) => ({ t: 'str' as const, v })),
        fc.boolean().map((v) => ({ t: 'bool' as const, v })),
      ),
      { maxKeys: 4 },
    ),
    emc: text,
    args: fc.array(text, { maxLength: 4 }),
    meta: fc.array(fc.record({ key: fc.integer({ min: 0, max: 255 }), value: text }), { maxLength: 3 }),
    ext: fc.array(text, { maxLength: 3 }),
    bootloader: fc.constantFrom('none', 'dual-boot', 'sd-boot', 'grub' as const),
    enroll: text,
    wkc: fc.boolean(),
    sector: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  })
  .map((r) => {
    const s = emptySchematic();
    s.owner = r.owner;
    s.overlay = { image: r.image, name: r.name, options: new Map(Object.entries(r.options)) };
    const c = s.customization;
    c.embeddedMachineConfiguration = r.emc;
    // go-yaml drops empty... no: it keeps "" items; it is null *items* that are dropped, and "" reads back as "".
    c.extraKernelArgs = r.args;
    c.meta = r.meta;
    c.systemExtensions.officialExtensions = r.ext;
    c.bootloader = r.bootloader;
    c.secureboot = { enrollKeys: r.enroll, includeWellKnownCertificates: r.wkc };
    c.diskImage.sectorSize = r.sector;
    return s;
  });

const valid = (s: string) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff]/.test(s) && !timestampLike(s);

// go-yaml gives a block scalar that starts with a space the indentation indicator 4 measured from the
// wrong column when it is nested (its own comment cites go-yaml issue 65): go-yaml cannot read such
// output back either (checked with scripts/goyaml-oracle), so the round trip is claimed without them;
// the bytes themselves are checked against go-yaml in test/provision/talos/goyaml-vectors.test.ts.
const allText = (s: Schematic) => [
  s.owner,
  s.overlay.image,
  s.overlay.name,
  ...s.overlay.options.keys(),
  ...[...s.overlay.options.values()].map((v) => (v.t === 'str' ? v.v : '')),
  s.customization.embeddedMachineConfiguration,
  s.customization.secureboot.enrollKeys,
  ...s.customization.extraKernelArgs,
  ...s.customization.meta.map((m) => m.value),
  ...s.customization.systemExtensions.officialExtensions,
];
// The same holds when the first non-empty line starts with a space after leading breaks: go-yaml writes
// no indicator then, and reads "\n a" back as "\na" (also checked with the oracle).
const goCannotReread = (t: string) => /^[\n\r\u0085\u2028\u2029]* /.test(t) && /[\n\r\u0085\u2028\u2029]/.test(t);

test('property: the canonical form decodes and encodes back to the same bytes', () => {
  fc.assert(
    fc.property(schematicArb, (s) => {
      fc.pre(!allText(s).some(goCannotReread));
      const yaml = canonicalYaml(s);
      assert.equal(canonicalYaml(decodeSchematic(yaml)), yaml);
    }),
    { numRuns: 400 },
  );
});

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let x = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** A plain object whose keys are in a shuffled order (recursively). */
function reorder(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => reorder(x, seed + i));
  if (v && typeof v === 'object')
    return Object.fromEntries(shuffled(Object.entries(v), seed).map(([k, x], i) => [k, reorder(x, seed * 31 + i)]));
  return v;
}

test('property: reordering the keys of a schematic file (JSON or YAML) never changes the ID', () => {
  fc.assert(
    fc.property(schematicArb, fc.integer({ min: 1, max: 1 << 30 }), (s, seed) => {
      fc.pre(
        [
          s.owner,
          s.overlay.image,
          s.overlay.name,
          s.customization.embeddedMachineConfiguration,
          s.customization.secureboot.enrollKeys,
          ...s.customization.extraKernelArgs,
        ].every(valid),
      );
      fc.pre([...s.overlay.options.keys()].every(valid) && s.customization.meta.every((m) => valid(m.value)));
      fc.pre(s.customization.systemExtensions.officialExtensions.every(valid));
      const c = s.customization;
      const file = {
        owner: s.owner,
        overlay: {
          image: s.overlay.image,
          name: s.overlay.name,
          options: Object.fromEntries([...s.overlay.options].map(([k, v]) => [k, v.t === 'str' || v.t === 'bool' ? v.v : null])),
        },
        customization: {
          embeddedMachineConfiguration: c.embeddedMachineConfiguration,
          extraKernelArgs: c.extraKernelArgs,
          meta: c.meta,
          systemExtensions: { officialExtensions: c.systemExtensions.officialExtensions },
          bootloader: c.bootloader,
          secureboot: { enrollKeys: c.secureboot.enrollKeys, includeWellKnownCertificates: c.secureboot.includeWellKnownCertificates },
          diskImage: { sectorSize: Number(c.diskImage.sectorSize % 65536n) },
        },
      };
      const want = id(decodeSchematic(JSON.stringify(file)));
      assert.equal(id(decodeSchematic(JSON.stringify(reorder(file, seed)))), want);
      // The same file as YAML block text, written by the yaml package; its own line-break quoting is not
      // what is under test, so texts with breaks or edge spaces are left to the JSON form above.
      if (!allText(s).some((t) => /[\n\r\u0085\u2028\u2029]|^ | $/.test(t)))
        assert.equal(id(decodeSchematic(stringify(reorder(file, seed + 7), { version: '1.1' }))), want);
    }),
    { numRuns: 300 },
  );
});
