#!/usr/bin/env node
// The guest agent: a drop-in for qemu-ga (see `guestlink-agent --help`).
import { main } from '../dist/src/agent/main.js';

await main(process.argv.slice(2));
