#!/usr/bin/env node
// Removes tsc's output before each build: tsc never deletes the output of a source that was moved or
// removed, and run-tests.mjs would still find and run such a stale test. The bundles and the built
// executables (dist/sea*, dist/oci) are left alone: they are rebuilt from their own inputs.
import { rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
for (const dir of ['src', 'test', 'bench']) rmSync(path.join(root, 'dist', dir), { recursive: true, force: true });
