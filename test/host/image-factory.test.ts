// The Image Factory client against the factory double: registration with the ID check, the factory's
// error answers, and servers that are not the factory (HTML, huge replies, silence).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkFactoryUrl, type FactoryError, registerSchematic, type SchematicIdMismatchError } from '../../src/host/image-factory.js';
import { canonicalYaml, emptySchematic, schematicId } from '../../src/provision/talos/schematic.js';
import { ImageFactoryDouble } from '../doubles/image-factory.js';

const VANILLA = canonicalYaml(emptySchematic());
const VANILLA_ID = '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba';

describe('registerSchematic', () => {
  const factory = new ImageFactoryDouble();
  let url = '';
  before(async () => {
    url = await factory.start();
  });
  after(() => factory.stop());

  it('POSTs the canonical YAML to /schematics as application/yaml and returns the checked ID', async () => {
    factory.mode = 'normal';
    const r = await registerSchematic({ url }, VANILLA, VANILLA_ID);
    assert.equal(r.id, VANILLA_ID);
    assert.equal(r.schematic, VANILLA);
    const last = factory.requests.at(-1);
    assert.deepEqual([last?.method, last?.path, last?.contentType, last?.body], ['POST', '/schematics', 'application/yaml', VANILLA]);
  });

  it('keeps a path prefix of the base URL', async () => {
    factory.mode = 'normal';
    await assert.rejects(registerSchematic({ url: `${url}/prefix/` }, VANILLA, VANILLA_ID), (e: FactoryError) => e.status === 404);
    assert.equal(factory.requests.at(-1)?.path, '/prefix/schematics');
  });

  it('an Enterprise factory that adds an owner answers another ID: an error showing both IDs and its form', async () => {
    factory.mode = 'owner';
    await assert.rejects(registerSchematic({ url }, VANILLA, VANILLA_ID), (e: SchematicIdMismatchError) => {
      assert.equal(e.code, 'SCHEMATIC_ID_MISMATCH');
      assert.equal(e.localId, VANILLA_ID);
      assert.equal(e.factoryId, schematicId('owner: alice\ncustomization: {}\n'));
      assert.match(e.message, new RegExp(`${e.factoryId}.*${VANILLA_ID}`, 's'));
      assert.match(e.message, /owner: alice/);
      return true;
    });
  });

  it("the factory's 400 for an invalid schematic comes through with its text", async () => {
    factory.mode = 'normal';
    const bad = 'customization:\n  meta:\n    - key: 256\n      value: x\n';
    await assert.rejects(registerSchematic({ url }, bad, VANILLA_ID), (e: FactoryError) => {
      assert.equal(e.code, 'FACTORY_REFUSED');
      assert.equal(e.status, 400);
      assert.match(
        e.message,
        /HTTP 400: yaml: construct errors: line 3: cannot construct !!int `256` into uint8 \(the factory refused the schematic\)/,
      );
      return true;
    });
  });

  it('401, 500, an HTML page and a reply over the cap are errors that say what happened', async () => {
    factory.mode = 'unauthorized';
    await assert.rejects(registerSchematic({ url }, VANILLA, VANILLA_ID), /HTTP 401.*needs authentication/);
    factory.mode = 'fail';
    await assert.rejects(
      registerSchematic({ url }, VANILLA, VANILLA_ID),
      /HTTP 500: internal server error \(the factory failed; try again later\)/,
    );
    factory.mode = 'not-json';
    await assert.rejects(
      registerSchematic({ url }, VANILLA, VANILLA_ID),
      (e: FactoryError) => e.code === 'FACTORY_BAD_REPLY' && /without JSON/.test(e.message),
    );
    factory.mode = 'huge';
    await assert.rejects(registerSchematic({ url, maxReplyBytes: 64 * 1024 }, VANILLA, VANILLA_ID), /larger than 65536 bytes/);
  });

  it('a factory that never answers is given up after the deadline', async () => {
    factory.mode = 'hang';
    await assert.rejects(registerSchematic({ url, timeoutMs: 200 }, VANILLA, VANILLA_ID), (e: FactoryError) => {
      assert.equal(e.code, 'FACTORY_UNREACHABLE');
      assert.match(e.message, /no answer within 0.2 s/);
      return true;
    });
  });

  it('nothing listening: unreachable, with the address', async () => {
    const dead = new ImageFactoryDouble();
    const deadUrl = await dead.start();
    await dead.stop();
    await assert.rejects(
      registerSchematic({ url: deadUrl }, VANILLA, VANILLA_ID),
      (e: FactoryError) => e.code === 'FACTORY_UNREACHABLE' && e.message.includes(deadUrl),
    );
  });
});

describe('checkFactoryUrl', () => {
  it('wants https, or http only to loopback, and no credentials in the URL', () => {
    assert.equal(checkFactoryUrl('https://factory.talos.dev').host, 'factory.talos.dev');
    assert.equal(checkFactoryUrl('http://127.0.0.1:8080').port, '8080');
    assert.throws(() => checkFactoryUrl('http://factory.talos.dev'), /https:\/\/ is required/);
    assert.throws(() => checkFactoryUrl('https://user:pw@factory.talos.dev'), /credentials/);
    assert.throws(() => checkFactoryUrl('factory'), /not a URL/);
  });
});
