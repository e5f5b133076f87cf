// The glibc and libstdc++ floors docs/install.md states for each architecture are the ones the built
// binaries ask for: the newest GLIBC_ / GLIBCXX_ symbol versions in their version-needs sections, read
// with readelf (scripts/elf.mjs), for the executable and its addon. A rebuilt Node or a new libc call in
// the addon that raises a floor fails here until the table says so.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { buildSea, missingTools, REPO_ROOT, type SeaBuild } from './build.js';

type Floors = Record<string, string>;
const elf = (await import(pathToFileURL(path.join(REPO_ROOT, 'scripts/elf.mjs')).href)) as {
  symbolVersionFloors(files: string[]): Floors;
};

const skip = missingTools('readelf', 'aarch64-linux-gnu-gcc', 'qemu-aarch64-static');

/** The cells of the docs/install.md "Architectures" row whose first cell starts with `label`: [amd64, arm64]. */
function row(label: string): [string, string] {
  const text = readFileSync(path.join(REPO_ROOT, 'docs/install.md'), 'utf8');
  const line = text.split('\n').find((l) => l.startsWith(`| ${label}`));
  assert.ok(line, `docs/install.md has no row "${label}"`);
  const cells = line.split(' | ').map((c) => c.replace(/^\|\s*|\s*\|$/g, '').trim());
  return [cells[1] ?? '', cells[2] ?? ''];
}

describe('glibc floors in docs/install.md', { skip, timeout: 300_000 }, () => {
  const builds: Partial<Record<'x64' | 'arm64', SeaBuild>> = {};
  before(async () => {
    builds.x64 = await buildSea('x64');
    builds.arm64 = await buildSea('arm64');
  });

  const columns = [
    ['x64', 0],
    ['arm64', 1],
  ] as const;

  test('the executable: GLIBC and GLIBCXX floors as measured', () => {
    for (const [arch, col] of columns) {
      const floors = elf.symbolVersionFloors([builds[arch]?.exe ?? '']);
      console.log(`# ${arch} executable: ${JSON.stringify(floors)}`);
      assert.equal(row('glibc floor of the executable')[col].split(' ')[0], floors.GLIBC, arch);
      assert.equal(row('libstdc++ floor')[col].split(' ')[0], floors.GLIBCXX, arch);
    }
  });

  test('the addon: GLIBC floor as measured', () => {
    for (const [arch, col] of columns) {
      const addon = builds[arch]?.addon;
      assert.ok(addon, `${arch}: built without its addon`);
      const floors = elf.symbolVersionFloors([addon]);
      console.log(`# ${arch} addon: ${JSON.stringify(floors)}`);
      assert.equal(row('glibc floor of the addon')[col].split(' ')[0], floors.GLIBC, arch);
    }
  });
});
