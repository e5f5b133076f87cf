// Persistent agent state under --statedir: the file handle counter (never reused across restarts,
// like qemu-ga's fd_counter) and the frozen marker (a restart while frozen keeps the filter on).
//
// The agent runs as root and the statedir may be one a local user can reach, so its own files are written
// as an attacker cannot redirect them: the directory must belong to the agent's user and not be writable
// by group or others (checked at start-up), every file is written to a fresh random temporary name with
// O_CREAT|O_EXCL|O_NOFOLLOW (never through a planted symlink) and renamed over the real name (a crash never
// leaves half a file; rename replaces a symlink there rather than writing through it), and read with
// O_NOFOLLOW. The dry-run power log is appended with O_NOFOLLOW (appendPrivate).
//
// node:fs's callback functions (promisified), not node:fs/promises: this runs before the agent's first reply,
// and node:fs/promises brings Node's readline, REPL history, directory and watcher modules with it (measured
// on Node 24: +1.1 MB RSS and ~2 ms at every start; docs/benchmarks.md, Round 4).
import * as fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AgentState } from '../commands/context.js';
import { ConfigError } from './config.js';

const FIRST_HANDLE = 1000;
const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND } = fs.constants;
const close = promisify(fs.close);
const lstat = promisify(fs.lstat);
const mkdir = promisify(fs.mkdir);
const open = promisify(fs.open);
const readFile = promisify(fs.readFile);
const rename = promisify(fs.rename);
const rm = promisify(fs.rm);
const stat = promisify(fs.stat);
const writeFile = promisify(fs.writeFile);

export class FileAgentState implements AgentState {
  private counter = FIRST_HANDLE;
  private isFrozen = false;
  private readonly stateFile: string;
  private readonly frozenFile: string;
  /** The state file write in progress (or done), and the one waiting for it to end, if any. */
  private saving: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(readonly dir: string) {
    this.stateFile = path.join(dir, 'guestlink.state');
    this.frozenFile = path.join(dir, 'guestlink.frozen');
  }

  /**
   * Checks the directory (creating it 0700 when missing; qemu-ga refuses to start instead), then loads or
   * creates the state. Throws ConfigError for a directory the agent must not trust.
   */
  async load(): Promise<this> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await checkPrivateDir(this.dir);
    try {
      const saved = JSON.parse(await readPrivate(this.stateFile)) as { fileHandleCounter?: unknown };
      if (typeof saved.fileHandleCounter === 'number' && saved.fileHandleCounter >= FIRST_HANDLE) this.counter = saved.fileHandleCounter;
    } catch {}
    // Whatever is there, even something the agent would not read, means a freeze was not undone.
    this.isFrozen = (await lstat(this.frozenFile).catch(() => undefined)) !== undefined;
    await this.save();
    return this;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  /** Details written into the frozen marker (the watchdog deadline), read back on restart. */
  async frozenDetails(): Promise<Record<string, unknown> | undefined> {
    try {
      return JSON.parse(await readPrivate(this.frozenFile)) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  async setFrozen(frozen: boolean, details: Record<string, unknown> = {}): Promise<void> {
    if (frozen) await atomicWrite(this.frozenFile, JSON.stringify({ since: new Date().toISOString(), ...details }));
    else await rm(this.frozenFile, { force: true });
    this.isFrozen = frozen;
  }

  async nextFileHandle(): Promise<number> {
    const h = this.counter++;
    await this.save();
    return h;
  }

  /** Persists the counter. Writes go one at a time, so the last one is the highest; a write still waiting its turn carries later counters too. */
  private save(): Promise<void> {
    if (!this.queued) {
      const write = this.saving.then(() => {
        this.queued = undefined;
        return atomicWrite(this.stateFile, JSON.stringify({ fileHandleCounter: this.counter }));
      });
      this.queued = write;
      this.saving = write.catch(() => {});
    }
    return this.queued;
  }
}

/** Refuses (ConfigError) a statedir that another user owns or that group or others may write to. */
export async function checkPrivateDir(dir: string, uid = process.geteuid?.()): Promise<void> {
  const st = await stat(dir);
  const fix = 'or choose another --statedir';
  if (!st.isDirectory()) throw new ConfigError(`statedir ${dir} is not a directory: choose another --statedir`);
  if (uid !== undefined && st.uid !== uid)
    throw new ConfigError(`statedir ${dir} belongs to uid ${st.uid}, not to the agent's user (uid ${uid}): chown it ${fix}`);
  if ((st.mode & 0o022) !== 0) {
    const who = [st.mode & 0o020 ? 'group' : '', st.mode & 0o002 ? 'others' : ''].filter(Boolean).join(' and ');
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    throw new ConfigError(
      `statedir ${dir} is writable by ${who} (mode ${mode}), so another user could plant files in it: chmod go-w ${dir} ${fix}`,
    );
  }
}

/** Reads a file without following a symlink at its name. */
async function readPrivate(file: string): Promise<string> {
  const fd = await open(file, O_RDONLY | O_NOFOLLOW);
  try {
    return await readFile(fd, 'utf8');
  } finally {
    await close(fd);
  }
}

/**
 * A temporary name's random part: 52 bits from Math.random, not node:crypto. The name needs to be unique,
 * not secret: only the agent's user can make entries in the statedir (checkPrivateDir), and O_EXCL|O_NOFOLLOW
 * means a name planted anyway is never written through (the write fails instead). Random rather than a
 * counter, so a file left by a crash of an earlier agent with the same pid (pid 1 in a container) is never
 * met again. Loading node:crypto for randomBytes cost ~5 ms and ~3 MB RSS at every start (the state is
 * written before the agent serves; docs/benchmarks.md).
 */
function tmpSuffix(): string {
  return Math.floor(Math.random() * 2 ** 52)
    .toString(16)
    .padStart(13, '0');
}

/**
 * Writes `data` to a new file with a random name beside `file` (O_EXCL|O_NOFOLLOW, 0600: nothing planted
 * there is written through) and renames it over `file`: a crash never leaves a half-written state file.
 */
export async function atomicWrite(file: string, data: string): Promise<void> {
  const tmp = `${file}.${tmpSuffix()}.tmp`;
  const fd = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    try {
      await writeFile(fd, data);
    } finally {
      await close(fd);
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Appends `data` to `file` (created 0600), never through a symlink at its name: the dry-run power log. */
export function appendPrivate(file: string, data: string): void {
  const fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}
