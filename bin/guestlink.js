#!/usr/bin/env node
// The host toolkit CLI (see `guestlink --help`). Runs the esbuild bundle unless the compiled modules are newer.
import { statSync } from 'node:fs';

const mtime = (u) => statSync(u, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundle = new URL('../dist/guestlink.mjs', import.meta.url);
const modules = new URL('../dist/src/cli/main.js', import.meta.url);
const { main } = await import(mtime(bundle) >= mtime(modules) ? bundle.href : modules.href);
process.exitCode = await main(process.argv.slice(2));
