// Every QGA handler, bound by name. The table in protocol/qga/commands.ts says what each accepts;
// each group's map names exactly the table's commands of that group (GroupHandlers), and the whole
// set is a Record over CommandName, so a command without a handler, or a handler without a command,
// fails to compile. The stateful groups (files, processes, freeze) are bound to objects the agent
// makes in agent/commands.ts and passes in: nothing here is made at import.

import type { CommandName } from '../protocol/qga/commands.js';
import { accountsHandlers } from './accounts.js';
import { authenticateHandlers } from './authenticate.js';
import type { Handler } from './context.js';
import { controlHandlers } from './control.js';
import { etcdHandlers } from './etcd.js';
import { makeExecHandlers } from './exec.js';
import type { ExecTable } from './exec-table.js';
import { makeFileHandlers } from './file.js';
import type { FileTable } from './file-table.js';
import { createFreezeHandlers, type FreezeController } from './freeze.js';
import { hardwareHandlers } from './hardware.js';
import { infoHandlers } from './info.js';
import { networkHandlers } from './network.js';
import { powerHandlers } from './power.js';
import { storageHandlers } from './storage.js';
import { timeHandlers } from './time.js';

/** The state objects the stateful handlers are bound to (one each per agent). */
export interface HandlerState {
  files: FileTable;
  exec: ExecTable;
  freeze: FreezeController;
}

/** Every command's handler, keyed by its name. */
export type Handlers = Readonly<Record<CommandName, Handler>>;

/** Binds every handler; the agent calls it once with its own tables, tests with theirs. */
export function createHandlers(state: HandlerState): Handlers {
  const all = {
    ...controlHandlers,
    ...infoHandlers,
    ...networkHandlers,
    ...timeHandlers,
    ...hardwareHandlers,
    ...storageHandlers,
    ...createFreezeHandlers(state.freeze),
    ...accountsHandlers,
    ...powerHandlers,
    ...makeFileHandlers(state.files),
    ...makeExecHandlers(state.exec),
    ...authenticateHandlers,
    ...etcdHandlers,
  } satisfies Handlers;
  return Object.freeze(all);
}
