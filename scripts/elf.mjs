// What an ELF program needs from the system it runs on, read with binutils' readelf (which reads the
// ELF of any architecture, unlike ldd, which runs the program's own loader and so only works for the
// host's architecture): its loader, its shared libraries (resolved in Debian's multiarch directories
// of the target, recursively), and the newest glibc and libstdc++ symbol versions it asks for (the
// oldest system it can run on). Used by scripts/build-oci.mjs and the package tests.
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

function readelf(args, file) {
  return execFileSync('readelf', ['-W', ...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** The program interpreter (PT_INTERP), e.g. /lib64/ld-linux-x86-64.so.2; undefined for a shared library. */
export function interpreter(file) {
  return /\[Requesting program interpreter: ([^\]]+)\]/.exec(readelf(['-l'], file))?.[1];
}

/** The DT_NEEDED entries, in order. */
export function needed(file) {
  return [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/** The ELF machine as readelf names it ("Advanced Micro Devices X86-64", "AArch64"). */
export function machine(file) {
  return /^\s*Machine:\s+(.+)$/m.exec(readelf(['-h'], file))?.[1].trim();
}

/**
 * Every shared library `files` load, with the loader: [{ name, found (the path looked up on this host),
 * path (that file with links resolved), dest (where it goes in a root filesystem) }]. Libraries are looked up in /lib/TRIPLET and /usr/lib/TRIPLET (Debian's
 * multiarch directories: libc6:arm64 and friends for another architecture) and go to /lib/TRIPLET,
 * which glibc's loader searches without an /etc/ld.so.cache; the loader goes to its PT_INTERP path.
 */
export function sharedLibraryClosure(files, triplet) {
  const dirs = [`/lib/${triplet}`, `/usr/lib/${triplet}`];
  const out = new Map();
  const queue = [...files];
  for (const f of files) {
    const interp = interpreter(f);
    if (interp && !out.has(interp)) {
      const host = existsSync(interp) ? interp : path.join(`/lib/${triplet}`, path.basename(interp));
      if (!existsSync(host)) throw new Error(`${f} needs the loader ${interp}, which is not on this host (${hint(triplet)})`);
      out.set(interp, { name: path.basename(interp), found: host, path: realpathSync(host), dest: interp });
    }
  }
  // A NEEDED entry naming the loader (Node's arm64 build has one) is the loader already mapped: glibc
  // matches it by SONAME, so no second copy goes into the library directory.
  const seen = new Set([...out.values()].map((l) => l.name));
  while (queue.length > 0) {
    const f = queue.shift();
    for (const name of needed(f)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const found = dirs.map((d) => path.join(d, name)).find((p) => existsSync(p));
      if (!found) throw new Error(`${f} needs ${name}, not found in ${dirs.join(' or ')} (${hint(triplet)})`);
      const lib = { name, found, path: realpathSync(found), dest: path.join(`/lib/${triplet}`, name) };
      out.set(lib.dest, lib);
      queue.push(lib.path);
    }
  }
  return [...out.values()].sort((a, b) => a.dest.localeCompare(b.dest));
}

function hint(triplet) {
  const arch = { 'x86_64-linux-gnu': 'amd64', 'aarch64-linux-gnu': 'arm64' }[triplet] ?? triplet;
  return `Debian: dpkg --add-architecture ${arch}; apt-get install libstdc++6:${arch}`;
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/**
 * The newest symbol version `files` require of each versioned library, from their version-needs
 * section (.gnu.version_r): { GLIBC: '2.28', GLIBCXX: '3.4.21', ... }. The GLIBC entry is the glibc
 * floor: the oldest glibc whose loader accepts the program.
 */
export function symbolVersionFloors(files) {
  const floors = {};
  for (const f of files) {
    const text = readelf(['-V'], f);
    const needs = text.slice(text.indexOf("Version needs section '.gnu.version_r'"));
    for (const m of needs.matchAll(/Name: ([A-Z_]+?)_(\d+(?:\.\d+)+)\s/g)) {
      const [, lib, version] = m;
      if (floors[lib] === undefined || compareVersions(version, floors[lib]) > 0) floors[lib] = version;
    }
  }
  return floors;
}
