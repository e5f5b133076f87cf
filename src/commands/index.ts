// Every QGA handler, bound by name. The table in protocol/qga/commands.ts says what each accepts.
import { accountsHandlers } from './accounts.js';
import type { Handler } from './context.js';
import { controlHandlers } from './control.js';
import { execHandlers } from './exec.js';
import { makeFileHandlers } from './file.js';
import type { FileTable } from './file-table.js';
import { freezeHandlers } from './freeze.js';
import { hardwareHandlers } from './hardware.js';
import { infoHandlers } from './info.js';
import { networkHandlers } from './network.js';
import { powerHandlers } from './power.js';
import { storageHandlers } from './storage.js';
import { timeHandlers } from './time.js';

/** The state objects handlers keep between requests, made once by agent/main.ts (tests make their own). */
export interface HandlerState {
  /** guest-file-* handles, shared by all connections. */
  files: FileTable;
}

/** Every handler, bound to the agent's state objects. */
export function makeHandlers(state: HandlerState): Readonly<Record<string, Handler>> {
  return Object.freeze({
    ...controlHandlers,
    ...infoHandlers,
    ...timeHandlers,
    ...networkHandlers,
    ...hardwareHandlers,
    ...storageHandlers,
    ...freezeHandlers,
    ...accountsHandlers,
    ...powerHandlers,
    ...makeFileHandlers(state.files),
    ...execHandlers,
  });
}
