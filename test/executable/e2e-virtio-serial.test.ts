// test/e2e/virtio-serial.test.ts again, with the single executable as the agent (see use-executable.ts).
import { useExecutable } from './use-executable.js';

await useExecutable();
await import('../e2e/virtio-serial.test.js');
