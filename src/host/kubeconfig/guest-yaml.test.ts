import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnsafeKubeconfigError } from '../errors.js';
import { parseGuestYaml } from './guest-yaml.js';

const refused = (text: string, why: RegExp) =>
  assert.throws(
    () => parseGuestYaml(text),
    (e: unknown) => e instanceof UnsafeKubeconfigError && why.test(e.message),
    text,
  );

test('plain YAML and JSON kubeconfigs parse', () => {
  assert.deepEqual(parseGuestYaml('clusters:\n- name: a\n  cluster: {server: "https://x"}\n'), {
    clusters: [{ name: 'a', cluster: { server: 'https://x' } }],
  });
  assert.deepEqual(parseGuestYaml('{"clusters": []}'), { clusters: [] });
});

test('billion laughs: aliases and anchors are refused before anything is expanded', () => {
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++)
    laughs.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  refused(`${laughs.join('\n')}\n`, /alias|anchor/);
  refused('a: &x 1\n', /an anchor \(&x\)/);
});

test('merge keys, explicit tags, directives, duplicate keys, several documents, non-string keys are refused with the reason', () => {
  refused('a:\n  <<: {k: 1}\n', /a merge key \(<<\)/);
  refused('a: !!binary aGk=\n', /an explicit tag/);
  refused('a: !!python/object:os.system ls\n', /tag/);
  refused('a: !custom x\n', /tag/);
  refused('%YAML 1.1\n---\na: yes\n', /directive/);
  refused('a: 1\na: 2\n', /unique/);
  refused('a: 1\n---\nb: 2\n', /2 documents/);
  refused('', /empty/);
  refused('{1: a}\n', /not a string/);
  refused('{[x]: a}\n', /not a string/);
  refused('a: [[[[', /not plain YAML/);
});

test('structures that would make the parse itself the attack are refused by the lexer pass', () => {
  refused('['.repeat(100_000), /more than 64 levels of nesting/);
  refused(`${'- '.repeat(100)}x\n`, /more than 64 levels of nesting/);
  refused(Array.from({ length: 10_001 }, (_, i) => `k${i}: v`).join('\n'), /more than 10000 nodes/);
  // Indentation alone nests cheaply and is allowed as far as the node bound goes.
  assert.ok(parseGuestYaml(Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}a${i}:`).join('\n')));
});
