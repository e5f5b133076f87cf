// Persistent agent state under --statedir: the file handle counter (never reused across restarts,
// like qemu-ga's fd_counter) and the frozen marker (a restart while frozen keeps the filter on).
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentState } from '../commands/context.js';

const FIRST_HANDLE = 1000;

export class FileAgentState implements AgentState {
  private counter = FIRST_HANDLE;
  private isFrozen = false;
  private readonly stateFile: string;
  private readonly frozenFile: string;

  constructor(readonly dir: string) {
    this.stateFile = path.join(dir, 'guestlink.state');
    this.frozenFile = path.join(dir, 'guestlink.frozen');
  }

  /** Loads or creates the state; creates the directory if needed (qemu-ga refuses to start instead). */
  async load(): Promise<this> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    try {
      const saved = JSON.parse(await readFile(this.stateFile, 'utf8')) as { fileHandleCounter?: unknown };
      if (typeof saved.fileHandleCounter === 'number' && saved.fileHandleCounter >= FIRST_HANDLE) this.counter = saved.fileHandleCounter;
    } catch {}
    try {
      await readFile(this.frozenFile);
      this.isFrozen = true;
    } catch {}
    await this.save();
    return this;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  /** Details written into the frozen marker (the watchdog deadline), read back on restart. */
  async frozenDetails(): Promise<Record<string, unknown> | undefined> {
    try {
      return JSON.parse(await readFile(this.frozenFile, 'utf8')) as Record<string, unknown>;
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

  private save(): Promise<void> {
    return atomicWrite(this.stateFile, JSON.stringify({ fileHandleCounter: this.counter }));
  }
}

/** Write to a temporary file and rename: a crash never leaves a half-written state file. */
export async function atomicWrite(file: string, data: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
}
