// An in-memory AgentState for tests: the same contract as FileAgentState, nothing on disk.
import type { AgentState } from '../../src/commands/context.js';

export class MemoryAgentState implements AgentState {
  frozen = false;
  details: Record<string, unknown> | undefined;
  private next = 1000;

  async nextFileHandle(): Promise<number> {
    return this.next++;
  }

  async setFrozen(frozen: boolean, details: Record<string, unknown> = {}): Promise<void> {
    this.frozen = frozen;
    this.details = frozen ? details : undefined;
  }

  async frozenDetails(): Promise<Record<string, unknown> | undefined> {
    return this.details;
  }
}
