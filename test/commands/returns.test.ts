// The command table binds the replies too: every command is sent through the real dispatcher and
// handlers, and each reply is checked against the table's `returns` type (members, optionality, JSON
// types, integer ranges), once on this machine's Linux back end (real /proc, /sys, mountinfo, utmp)
// and once on the Talos back end against the Talos API double. What would change this machine is
// served by recording fakes behind the same interfaces (the clock's set, freeze/thaw/trim, vCPUs,
// memory blocks, the password), so the handler's mapping is still what is checked.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { Session } from '../../src/commands/context.js';
import { parseExecRule } from '../../src/commands/exec-rules.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { CommandPolicy } from '../../src/dispatch/policy.js';
import { DryRunPower } from '../../src/node/dry-run/power.js';
import type { EtcdSnapshotOutcome, EtcdSnapshots, NodeBackend } from '../../src/node/interfaces.js';
import { LinuxAccounts } from '../../src/node/linux/accounts.js';
import { createLinuxBackend } from '../../src/node/linux/index.js';
import { createTalosBackend } from '../../src/node/talos/index.js';
import { COMMAND_NAMES, type CommandName, type CommandSpec, findCommand, type OptInGroup } from '../../src/protocol/qga/commands.js';
import { type JsonEvent, JsonStreamReader } from '../../src/protocol/qga/json-stream.js';
import type { JsonObject, JsonValue } from '../../src/protocol/qga/json-value.js';
import { checkValueType } from '../../src/protocol/qga/schema.js';
import { QGA_TYPES } from '../../src/protocol/qga/types.js';
import { testHandlers } from '../doubles/handlers.js';
import { MemoryAgentState } from '../doubles/memory-state.js';
import { TEST_SETTINGS } from '../doubles/settings.js';
import { TalosApiDouble } from '../doubles/talos-api.js';
import { makeTempDir } from '../peer/harness.js';
import { fillFixtures } from '../talos/helpers.js';

const dir = makeTempDir('guestlink-returns-');
const data = path.join(dir, 'data');
const root = path.join(dir, 'root');

/**
 * One request per command (a Record over CommandName: a new command fails to compile until it has one),
 * in an order that ends with the freeze commands, since a frozen agent answers little else.
 */
const REQUESTS: Record<CommandName, JsonObject | undefined> = {
  'guest-sync-delimited': { id: 4 },
  'guest-sync': { id: 5 },
  'guest-ping': undefined,
  'guest-info': undefined,
  'guest-get-time': undefined,
  'guest-set-time': undefined,
  'guest-shutdown': { mode: 'reboot' },
  'guest-suspend-disk': undefined,
  'guest-suspend-ram': undefined,
  'guest-suspend-hybrid': undefined,
  'guest-file-open': { path: path.join(data, 'f'), mode: 'w+' },
  'guest-file-write': { handle: 'HANDLE', 'buf-b64': 'aGVsbG8=' },
  'guest-file-seek': { handle: 'HANDLE', offset: 0, whence: 'set' },
  'guest-file-read': { handle: 'HANDLE', count: 16 },
  'guest-file-flush': { handle: 'HANDLE' },
  'guest-file-close': { handle: 'HANDLE' },
  'guest-fstrim': { minimum: 0 },
  'guest-network-get-interfaces': undefined,
  'guest-get-vcpus': undefined,
  'guest-set-vcpus': { vcpus: [{ 'logical-id': 0, online: true }] },
  'guest-get-disks': undefined,
  'guest-get-fsinfo': undefined,
  'guest-set-user-password': { username: 'u', password: 'cGFzcw==', crypted: false },
  'guest-get-memory-blocks': undefined,
  'guest-set-memory-blocks': { 'mem-blks': [{ 'phys-index': 0, online: true }] },
  'guest-get-memory-block-info': undefined,
  'guest-exec': { path: '/bin/echo', arg: ['hi'], 'capture-output': true },
  'guest-exec-status': { pid: 'PID' },
  'guest-get-host-name': undefined,
  'guest-get-users': undefined,
  'guest-get-timezone': undefined,
  'guest-get-osinfo': undefined,
  'guest-get-devices': undefined,
  'guest-ssh-get-authorized-keys': { username: 'u' },
  'guest-ssh-add-authorized-keys': { username: 'u', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0 new'] },
  'guest-ssh-remove-authorized-keys': { username: 'u', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0 new'] },
  'guest-get-diskstats': undefined,
  'guest-get-cpustats': undefined,
  'guest-get-load': undefined,
  // Answered only with a principal (the management endpoint's); the session below has one.
  'guestlink-authenticate': { token: 't' },
  'guestlink-etcd-snapshot': undefined,
  'guestlink-etcd-snapshot-status': undefined,
  'guest-fsfreeze-status': undefined,
  'guest-fsfreeze-freeze': undefined,
  'guest-fsfreeze-thaw': undefined,
  'guest-fsfreeze-freeze-list': { mountpoints: ['/'] },
};

/** What would change this machine, replaced by recording fakes; everything else stays the real back end's. */
function sparingThisMachine(node: NodeBackend): NodeBackend {
  const storage = node.storage;
  return {
    ...node,
    clock: { now: () => node.clock.now(), set: async () => {} },
    storage: {
      filesystems: () => storage.filesystems(),
      disks: () => storage.disks(),
      freezableMounts: () => storage.freezableMounts(),
      freeze: async () => true,
      thaw: async () => true,
      trim: async () => [
        { path: '/', trimmed: 4096n, minimum: 0 },
        { path: '/boot', error: 'Operation not supported' },
      ],
    },
    hardware: {
      setVcpus: async (cpus) => cpus.length,
      setMemoryBlocks: async (blocks) => blocks.map((b) => ({ physIndex: b.physIndex, response: 'success' as const })),
    },
    accounts: Object.assign(Object.create(node.accounts) as typeof node.accounts, { setPassword: async () => {} }),
    etcdSnapshots: recordedEtcdSnapshots(),
  };
}

/** A snapshot source that records instead of reaching an etcd (test/linux/etcd-freeze takes real ones). */
function recordedEtcdSnapshots(): EtcdSnapshots {
  let last: EtcdSnapshotOutcome | undefined;
  return {
    dir: path.join(dir, 'etcd'),
    source: 'recorded',
    take: async (trigger) => {
      const snapshot = {
        path: path.join(dir, 'etcd/etcd-20261202T000000Z-rev42.db'),
        revision: 42,
        size: 20512,
        sha256: 'a'.repeat(64),
        takenAt: new Date().toISOString(),
        durationMs: 3,
      };
      last = { trigger, at: snapshot.takenAt, snapshot };
      return snapshot;
    },
    last: () => last,
  };
}

/** Sends every command in table order (freeze last) and checks each reply; returns the commands checked. */
async function checkEveryReply(node: NodeBackend): Promise<string[]> {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const log = pino({ level: 'fatal' }, sink);
  const groups: OptInGroup[] = ['exec', 'file', 'accounts', 'authenticate', 'etcd'];
  const dispatcher = new Dispatcher({
    version: 'test',
    handlers: testHandlers(),
    policy: new CommandPolicy({ optInGroups: groups, unsupported: node.unsupportedCommands }),
    node,
    state: new MemoryAgentState(),
    settings: {
      ...TEST_SETTINGS,
      allowExec: [parseExecRule('/bin/echo')],
      allowFileRead: [`${data}/`],
      allowFileWrite: [`${data}/`],
    },
    log,
    audit: log,
  });
  const session: Session = { id: 1, delimitNextReply: false, principal: { user: 'test', groups: [], authenticated: 'certificate' } };
  const values = new Map<string, JsonValue>();
  const checked: string[] = [];
  for (const name of Object.keys(REQUESTS) as CommandName[]) {
    const spec = findCommand(name) as CommandSpec;
    const request: JsonObject = { execute: name };
    const args = REQUESTS[name];
    if (args) request.arguments = fill(args, values);
    let raw = await dispatcher.dispatch({ value: request }, session);
    // Until it reports the process exited (with its output), each "exited": false reply is checked too.
    while (name === 'guest-exec-status' && raw?.toString().includes('"exited": false')) {
      checkValueType(QGA_TYPES, spec.returns as string, (parseReply(raw, false)?.return ?? null) as JsonValue);
      await new Promise((res) => setTimeout(res, 10));
      raw = await dispatcher.dispatch({ value: request }, session);
    }
    if (node.unsupportedCommands.includes(name)) {
      assert.equal(raw?.toString(), `{"error": {"class": "CommandNotFound", "desc": "Command ${name} has been disabled"}}\n`);
      continue;
    }
    if (spec.successResponse === false) {
      assert.equal(raw, null, `${name}: no reply on success, got ${raw?.toString()}`);
      checked.push(name);
      continue;
    }
    const reply = parseReply(raw as Buffer, name === 'guest-sync-delimited');
    assert.ok(reply && 'return' in reply, `${name}: ${raw?.toString().slice(0, 300)}`);
    const value = reply.return as JsonValue;
    try {
      if (spec.returns) checkValueType(QGA_TYPES, spec.returns, value);
      else assert.deepEqual(Object.keys(value as object), [], 'returns {}');
    } catch (err) {
      assert.fail(
        `${name}: the reply does not match ${JSON.stringify(spec.returns ?? '{}')}: ${(err as Error).message}\n${raw?.toString().slice(0, 500)}`,
      );
    }
    if (name === 'guest-file-open') values.set('HANDLE', value);
    if (name === 'guest-exec') values.set('PID', (value as JsonObject).pid as JsonValue);
    checked.push(name);
  }
  return checked;
}

/** Placeholders ('HANDLE', 'PID') replaced by what earlier replies returned. */
function fill(args: JsonObject, values: Map<string, JsonValue>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(args)) out[k] = typeof v === 'string' && values.has(v) ? values.get(v) : v;
  return out;
}

function parseReply(raw: Buffer, delimited: boolean): { return?: JsonValue } | undefined {
  const events: JsonEvent[] = [];
  new JsonStreamReader((ev) => events.push(ev)).feed(delimited ? raw.subarray(1) : raw);
  const ev = events[0];
  return ev && 'value' in ev ? (ev.value as { return?: JsonValue }) : undefined;
}

describe('every reply matches its `returns` in the table', () => {
  before(() => {
    mkdirSync(data);
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    mkdirSync(path.join(root, 'home/u/.ssh'), { recursive: true });
    writeFileSync(path.join(root, 'etc/passwd'), `u:x:${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}::/home/u:/bin/sh\n`);
    writeFileSync(path.join(root, 'home/u/.ssh/authorized_keys'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0 old\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('on this machine: the Linux back end', async () => {
    const linux = createLinuxBackend({ power: new DryRunPower() });
    const node = sparingThisMachine({ ...linux, accounts: new LinuxAccounts(root) });
    const checked = await checkEveryReply(node);
    assert.deepEqual(
      checked,
      COMMAND_NAMES.filter((n) => !linux.unsupportedCommands.includes(n)).sort((a, b) => order(a) - order(b)),
    );
  });

  test('on the Talos back end (the Talos API double)', async () => {
    const double = await TalosApiDouble.start({ kind: 'unix', path: path.join(dir, 'machine.sock') });
    fillFixtures(double);
    const talos = createTalosBackend({
      target: { kind: 'socket', path: path.join(dir, 'machine.sock'), role: 'os:operator' },
      timeoutMs: 4000,
      rebootMode: 'default',
    });
    try {
      // The Talos EtcdSnapshot source itself is tested in test/talos/etcd-snapshot; here the reply's shape.
      const checked = await checkEveryReply({ ...talos, etcdSnapshots: recordedEtcdSnapshots() });
      assert.ok(
        checked.includes('guest-network-get-interfaces') && checked.includes('guest-get-fsinfo') && checked.includes('guest-shutdown'),
      );
      assert.equal(checked.length + talos.unsupportedCommands.length, COMMAND_NAMES.length);
    } finally {
      talos.close();
      await double.stop();
    }
  });
});

function order(name: string): number {
  return Object.keys(REQUESTS).indexOf(name);
}
