// Command settings for tests that run the dispatcher in process: nothing allow-listed, no watchdog.
import type { CommandSettings } from '../../src/commands/context.js';

export const TEST_SETTINGS: CommandSettings = Object.freeze({
  allowExec: [],
  execSearchPath: '/usr/bin:/bin',
  allowExecEnv: [],
  allowFileRead: [],
  allowFileWrite: [],
  allowFileHardlinks: false,
  fsfreezeTimeout: 0,
  hideVirtualInterfaces: true,
  hideInterfacesWithoutAddresses: false,
});
