// Every QGA handler, bound by name. The table in protocol/qga/commands.ts says what each accepts.
import { accountsHandlers } from './accounts.js';
import type { Handler } from './context.js';
import { controlHandlers } from './control.js';
import { etcdHandlers } from './etcd.js';
import { execHandlers } from './exec.js';
import { fileHandlers } from './file.js';
import { freezeHandlers } from './freeze.js';
import { hardwareHandlers } from './hardware.js';
import { infoHandlers } from './info.js';
import { networkHandlers } from './network.js';
import { powerHandlers } from './power.js';
import { storageHandlers } from './storage.js';
import { timeHandlers } from './time.js';

export const handlers: Readonly<Record<string, Handler>> = Object.freeze({
  ...controlHandlers,
  ...infoHandlers,
  ...timeHandlers,
  ...networkHandlers,
  ...hardwareHandlers,
  ...storageHandlers,
  ...freezeHandlers,
  ...accountsHandlers,
  ...powerHandlers,
  ...fileHandlers,
  ...execHandlers,
  ...etcdHandlers,
});
