// The rollout's state file: which nodes are finished, which one was in flight (with its boot id
// before the reboot, so a resumed run can tell "rebooted already" from "not yet"), and how the
// rollout ended. It is the user's file, so it is handled as one: written atomically (a fresh
// temporary file beside it, fsync, rename), never through a symlink (a planted link is refused,
// not followed), read with a size cap and checked field by field; a damaged one is an error that
// names the file, never a silent fresh start (which could reboot a node twice).
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RolloutError } from './errors.js';
import { isNodeName, printable } from './names.js';
import { array, bool, type Infer, isoTime, num, oneOf, optional, ShapeError, str, strictObject } from './shape.js';

/** The state file format's version (a newer file is refused, not misread). */
export const STATE_VERSION = 1;
/** A state file larger than this is refused unread (a plan of thousands of nodes is ~1 MB). */
export const MAX_STATE_BYTES = 16 << 20;

const NODE_STATUSES = ['pending', 'rebooting', 'rebooted', 'done', 'failed'] as const;
/** Where a node stands in the state file. */
export type NodeStatus = (typeof NODE_STATUSES)[number];

const iso = isoTime;

const NodeStateSchema = strictObject({
  node: str(253),
  vm: str(),
  controlPlane: bool,
  batch: num(0),
  matchedBy: oneOf(['host-name', 'node-map']),
  status: oneOf(NODE_STATUSES),
  phase: optional(str(64)),
  bootIdBefore: optional(str(128)),
  bootIdAfter: optional(str(128)),
  /** Cordoned by someone else before its reboot (--ignore-cordoned): its agent will leave the cordon. */
  cordonedBefore: optional(bool),
  requestedAt: optional(iso),
  finishedAt: optional(iso),
  ms: optional(num(0, false)),
  error: optional(str()),
});

const StateSchema = strictObject({
  version: oneOf([STATE_VERSION]),
  id: str(64),
  server: str(),
  context: str(),
  created: iso,
  updated: iso,
  /** The targets as given on the command line (a resume must name the same). */
  targets: array(str()),
  order: str(64),
  maxUnavailable: num(1),
  result: oneOf(['running', 'done', 'failed', 'interrupted']),
  /** The process writing it while running, and where: a second run on the same file is refused meanwhile. */
  pid: num(0),
  host: str(255),
  failure: optional(strictObject({ node: optional(str(253)), phase: optional(str(64)), code: str(64), message: str(16384) })),
  baseline: strictObject({ unhealthy: array(str(600)) }),
  nodes: array(NodeStateSchema),
});

/** One node of the state file. */
export type NodeState = Infer<typeof NodeStateSchema>;
/** The state file's content. */
export type RolloutState = Infer<typeof StateSchema>;

/** $XDG_STATE_HOME/guestlink (else ~/.local/state/guestlink), per the XDG base directory spec. */
export function stateDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.local', 'state');
  return path.join(base, 'guestlink');
}

/** The default state file of a cluster: one rollout per API server at a time. */
export function defaultStatePath(env: Readonly<Record<string, string | undefined>>, server: string): string {
  return path.join(stateDir(env), `rollout-${createHash('sha256').update(server).digest('hex').slice(0, 12)}.json`);
}

function stateError(file: string, why: string): RolloutError {
  return new RolloutError('ROLLOUT_STATE', `state file ${printable(file)}: ${why}`);
}

/** Throws when the path is a symbolic link (lstat: the link itself, never its target). */
function refuseSymlink(file: string): boolean {
  try {
    if (lstatSync(file).isSymbolicLink())
      throw stateError(file, 'is a symbolic link; refusing to follow it (it may have been planted): remove it or choose another --state');
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The state, or undefined when the file does not exist. Throws ROLLOUT_STATE for anything else wrong. */
export function readState(file: string): RolloutState | undefined {
  if (!refuseSymlink(file)) return undefined;
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw stateError(file, 'became a symbolic link while being opened; refusing to follow it');
    throw stateError(file, `cannot open it: ${(err as Error).message}`);
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw stateError(file, 'is not a regular file');
    // As ssh treats its files: a plan someone else could have written is not followed (it names
    // the VMs to reboot).
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid)
      throw stateError(file, `belongs to another user (uid ${st.uid}); refusing to act on a plan someone else wrote`);
    if ((st.mode & 0o022) !== 0)
      throw stateError(file, `can be written by others (mode ${(st.mode & 0o777).toString(8)}); refusing it: chmod go-w it if it is yours`);
    if (st.size > MAX_STATE_BYTES) throw stateError(file, `is ${st.size} bytes, more than a rollout state can be (${MAX_STATE_BYTES})`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    text = buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw stateError(file, `is damaged (not JSON: ${printable((err as Error).message, 200)}); look at it, then remove it to start over`);
  }
  let state: RolloutState;
  try {
    state = StateSchema.check(json, '');
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    const where = err.path ? `${printable(err.path, 80)}: ` : '';
    throw stateError(
      file,
      `is not a guestlink rollout state (${where}${printable(err.message, 200)}); look at it, then remove it to start over`,
    );
  }
  for (const n of state.nodes)
    if (!isNodeName(n.node) || !/^(unix:.|libvirt:|pve:\/\/)/.test(n.vm))
      throw stateError(
        file,
        `names a node or VM that no rollout would have planned (${printable(n.node, 80)} on ${printable(n.vm, 120)}); look at it, then remove it to start over`,
      );
  return state;
}

/** Writes the state atomically: a new file (O_EXCL, 0600) beside it, fsync, rename over the old one. */
export function writeState(file: string, state: RolloutState): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  refuseSymlink(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    throw stateError(file, `cannot write beside it: ${(err as Error).message}`);
  }
  try {
    const data = Buffer.from(`${JSON.stringify(state, null, 2)}\n`);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw stateError(file, `cannot write it: ${(err as Error).message}`);
  }
  closeSync(fd);
  // rename() replaces a symlink planted meanwhile by the file itself: it never writes through one.
  renameSync(tmp, file);
  try {
    const d = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {}
}

/** True when the recorded writer is a live process on this machine (its rollout is still going). */
export function ownerAlive(s: RolloutState): boolean {
  if (s.result !== 'running' || s.host !== os.hostname() || s.pid === process.pid || s.pid <= 0) return false;
  try {
    process.kill(s.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state and its file: every change is written at once (a crash loses nothing recorded). */
export class StateStore {
  constructor(
    readonly file: string,
    readonly state: RolloutState,
  ) {}

  save(): void {
    this.state.updated = new Date().toISOString();
    writeState(this.file, this.state);
  }
}
