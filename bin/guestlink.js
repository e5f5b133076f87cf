#!/usr/bin/env node
// The host toolkit CLI (see `guestlink --help`).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
