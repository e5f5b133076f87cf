#!/usr/bin/env node
// The guest agent: a drop-in for qemu-ga (see `guestlink-agent --help`). Runs the esbuild bundle
// (faster start) unless the compiled modules are newer, as after a plain `tsc` during development.
import { statSync } from 'node:fs';

const mtime = (u) => statSync(u, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundle = new URL('../dist/guestlink-agent.mjs', import.meta.url);
const modules = new URL('../dist/src/agent/main.js', import.meta.url);
const { main } = await import(mtime(bundle) >= mtime(modules) ? bundle.href : modules.href);
await main(process.argv.slice(2));
