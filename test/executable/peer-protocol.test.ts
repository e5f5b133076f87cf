// test/peer/protocol.test.ts again, with the single executable as the agent (see use-executable.ts).
import { useExecutable } from './use-executable.js';

await useExecutable();
await import('../peer/protocol.test.js');
