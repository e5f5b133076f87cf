#!/usr/bin/env node
// Builds guestlink's OCI images without a container engine, with umoci:
//
//   node scripts/build-oci.mjs [--out DIR] [--tag TAG] [--only agent|extension] [--arch x64|arm64|all] [--sea-out DIR]
//
//   DIR/guestlink                    OCI layout: the agent image for the DaemonSet
//   DIR/guestlink-talos-extension    OCI layout: the Talos system extension
//
// In each layout, ref TAG is an OCI image index with one image per platform (linux/amd64 and
// linux/arm64 by default; --arch narrows it), and TAG-amd64 / TAG-arm64 name each platform's image
// alone (for `umoci unpack` or a single-platform copy). Push the index with both images:
// `skopeo copy --all oci:dist/oci/guestlink:0.2.0 docker://ghcr.io/OWNER/guestlink:0.2.0`; a runtime or
// Talos's imager then takes the image of its own platform from the one tag.
//
// Decisions (and why):
// - umoci, not buildah: nothing here runs inside the image (no RUN step), so all that is needed is
//   "this directory as a layer, this config". umoci writes an OCI layout directly, needs no
//   containers/storage state under /var/lib/containers, no daemon and no user namespace, and works
//   as root or rootless (--rootless) the same way. buildah works here too (as root, vfs driver, its
//   own --root/--runroot: from scratch, copy, config, commit oci:...), but it keeps a containers/
//   storage copy of every layer and needs that state cleaned up after; umoci has nothing to clean.
// - A minimal rootfs: the single executable (scripts/build-sea.mjs), the native addon, the glibc
//   runtime the Node binary links against (its loader and NEEDED libraries, read with readelf and
//   copied from the build host's Debian multiarch directories: /lib/x86_64-linux-gnu, and for arm64
//   /lib/aarch64-linux-gnu from libc6:arm64 and libstdc++6:arm64; ldd cannot be used, it runs the
//   program's own loader), and the licence texts of what is shipped (Node's, and the Debian copyright files of the libraries).
//   No shell, no CA bundle (the agent trusts only the CA given in a talosconfig or the service
//   account's ca.crt, and Node carries its own root store), no /etc/passwd (it runs as uid 0).
// - User 0:0 on purpose: /dev/virtio-ports/* are root-owned 0600 and FIFREEZE needs CAP_SYS_ADMIN;
//   Kubernetes gives a non-root container no effective capabilities, so the narrowing is done by
//   the DaemonSet's capability list instead (deploy/kubernetes/base/daemonset.yaml).
// - The extension image follows Talos's layout (siderolabs/talos pkg/machinery/extensions): only
//   manifest.yaml and rootfs/ at the top; regular files only under /usr/local (an allowed prefix);
//   the service's container rootfs in /usr/local/lib/containers/guestlink (the same tree as the agent
//   image) and its definition in /usr/local/etc/containers/guestlink.yaml; nothing world-writable.
//   The rules hold for each platform alike: the arm64 extension differs only in the container rootfs.
// - One index per image kind rather than one image per architecture tag: the DaemonSet and the
//   installer reference need no per-architecture variant. The index is written here (umoci 0.4
//   builds single images only): each platform's image is built in the shared layout under its own
//   ref, then an index blob lists their manifests with their platforms and TAG points at it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSea, defaultSeaOut } from './build-sea.mjs';
import { sharedLibraryClosure } from './elf.mjs';
import { parseArchList, seaNode, TARGETS } from './sea-targets.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const SOURCE = 'https://github.com/guestlink/guestlink';

function parseArgs(argv) {
  const opts = {
    out: path.join(root, 'dist', 'oci'),
    tag: pkg.version,
    only: undefined,
    arches: Object.keys(TARGETS),
    seaOut: undefined,
    quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = path.resolve(argv[++i] ?? '');
    else if (a === '--tag') opts.tag = argv[++i];
    else if (a === '--only') opts.only = argv[++i];
    else if (a === '--arch') opts.arches = parseArchList(argv[++i] ?? '');
    else if (a === '--sea-out') opts.seaOut = path.resolve(argv[++i] ?? '');
    else if (a === '--quiet') opts.quiet = true;
    else
      throw new Error(
        `build-oci: unknown option ${a} (options: --out DIR --tag TAG --only agent|extension --arch x64|arm64|all --sea-out DIR --quiet)`,
      );
  }
  if (opts.only !== undefined && !['agent', 'extension'].includes(opts.only)) throw new Error('build-oci: --only takes agent or extension');
  return opts;
}

function umoci(...args) {
  return execFileSync('umoci', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The Debian package owning a file, or undefined (no dpkg, or not packaged). */
function debianPackage(file) {
  for (const f of [file, realpathSync(file)]) {
    try {
      const out = execFileSync('dpkg', ['-S', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return out.split(':')[0];
    } catch {}
  }
  return undefined;
}

/**
 * Lays out the agent's root filesystem in `dir` for `arch`: what /usr/local/bin/guestlink needs to run
 * and nothing else. Library files go where ld.so looks without /etc/ld.so.cache (the loader at the
 * ELF's PT_INTERP path, libraries in Debian's multiarch directory, which glibc searches by default).
 */
export function populateAgentRootfs(dir, sea, arch = 'x64') {
  const bin = path.join(dir, 'usr/local/bin');
  const lib = path.join(dir, 'usr/local/lib/guestlink');
  const doc = path.join(dir, 'usr/local/share/doc/guestlink');
  for (const d of [bin, lib, doc]) mkdirSync(d, { recursive: true, mode: 0o755 });
  // Mount points, present so a runtime with a read-only rootfs (Talos extension services,
  // readOnlyRootFilesystem) need not create them: the DaemonSet and the extension mount the
  // virtio port, the state directory, the machined socket and the host's os-release there, and the
  // etcd snapshot directory (docs/backup.md).
  for (const d of ['dev', 'proc', 'sys', 'etc', 'run/guestlink', 'system/run/machined', 'var/lib/guestlink/etcd-snapshots'])
    mkdirSync(path.join(dir, d), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(dir, 'etc/os-release'), '', { mode: 0o644 });
  copyFileSync(sea.exe, path.join(bin, 'guestlink'));
  chmodSync(path.join(bin, 'guestlink'), 0o755);
  symlinkSync('guestlink', path.join(bin, 'guestlink-agent'));
  if (sea.addon) {
    copyFileSync(sea.addon, path.join(lib, 'guestlink.node'));
    chmodSync(path.join(lib, 'guestlink.node'), 0o644);
  }
  const packages = new Set();
  const libs = sharedLibraryClosure([sea.exe, ...(sea.addon ? [sea.addon] : [])], TARGETS[arch].triplet);
  for (const l of libs) {
    const dest = path.join(dir, l.dest);
    mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
    copyFileSync(l.path, dest);
    chmodSync(dest, 0o755);
    const p = debianPackage(l.found);
    if (p) packages.add(p);
  }
  // Licences of what is shipped: guestlink's, Node's (it lists the licences of Node's own bundled
  // dependencies), and the copyright files of the Debian packages the libraries came from.
  if (existsSync(path.join(root, 'LICENSE'))) copyFileSync(path.join(root, 'LICENSE'), path.join(doc, 'LICENSE'));
  copyFileSync(path.join(seaNode(arch).pkgDir, 'LICENSE'), path.join(doc, 'LICENSE.node'));
  for (const p of packages) {
    const c = `/usr/share/doc/${p}/copyright`;
    if (existsSync(c)) copyFileSync(c, path.join(doc, `copyright.${p}`));
  }
  return { libraries: libs.map((l) => l.name), packages: [...packages] };
}

function labels(title, description) {
  return {
    'org.opencontainers.image.title': title,
    'org.opencontainers.image.description': description,
    'org.opencontainers.image.version': pkg.version,
    'org.opencontainers.image.licenses': pkg.license,
    'org.opencontainers.image.source': SOURCE,
    'org.opencontainers.image.vendor': 'guestlink',
  };
}

/** Adds image `ref` to the OCI layout: `rootfs` as a single layer, `config` for platform linux/`ociArch`. */
function addImage(layout, ref, ociArch, rootfs, config) {
  umoci('new', '--image', `${layout}:${ref}`);
  const bundle = mkdtempSync(path.join(os.tmpdir(), 'gl-oci-bundle-'));
  try {
    rmSync(bundle, { recursive: true });
    umoci('unpack', '--image', `${layout}:${ref}`, bundle);
    // The unpacked rootfs is empty (a scratch image); copy ours in, keeping symlinks as symlinks.
    cpSync(rootfs, path.join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    umoci('repack', '--image', `${layout}:${ref}`, '--history.created_by', `scripts/build-oci.mjs ${config.what}`, bundle);
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
  const args = ['config', '--image', `${layout}:${ref}`, '--os', 'linux', '--architecture', ociArch, '--author', 'guestlink'];
  if (config.entrypoint) for (const e of config.entrypoint) args.push('--config.entrypoint', e);
  if (config.cmd) for (const c of config.cmd) args.push('--config.cmd', c);
  if (config.user) args.push('--config.user', config.user);
  if (config.workingdir) args.push('--config.workingdir', config.workingdir);
  if (config.stopsignal) args.push('--config.stopsignal', config.stopsignal);
  for (const [k, v] of Object.entries(config.labels)) args.push('--config.label', `${k}=${v}`, '--manifest.annotation', `${k}=${v}`);
  args.push('--history.created_by', `scripts/build-oci.mjs ${config.what} (config)`);
  umoci(...args);
}

const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * Writes an OCI image index listing the images `refs` (ref -> OCI architecture) with their platforms,
 * and points ref `tag` at it in index.json; the per-platform refs stay. Returns the index's digest.
 */
function writeIndex(layout, tag, refs, annotations) {
  const top = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
  const manifests = Object.entries(refs).map(([ref, arch]) => {
    const d = top.manifests.find((m) => m.annotations?.[REF_NAME] === ref);
    if (!d) throw new Error(`build-oci: ${layout} has no image ${ref}`);
    return { mediaType: d.mediaType, digest: d.digest, size: d.size, platform: { architecture: arch, os: 'linux' } };
  });
  const blob = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests, annotations }),
  );
  const hex = createHash('sha256').update(blob).digest('hex');
  writeFileSync(path.join(layout, 'blobs', 'sha256', hex), blob, { mode: 0o644 });
  top.manifests = [
    ...top.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag),
    {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: `sha256:${hex}`,
      size: blob.length,
      annotations: { [REF_NAME]: tag },
    },
  ];
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify(top));
  return `sha256:${hex}`;
}

/**
 * A fresh OCI layout: one image per architecture (ref TAG-amd64, TAG-arm64, each from rootfsOf(arch)),
 * and the index TAG over them.
 */
function buildLayout(layout, tag, arches, rootfsOf, config) {
  rmSync(layout, { recursive: true, force: true });
  umoci('init', '--layout', layout);
  const refs = {};
  for (const arch of arches) {
    const oci = TARGETS[arch].oci;
    addImage(layout, `${tag}-${oci}`, oci, rootfsOf(arch), config);
    refs[`${tag}-${oci}`] = oci;
  }
  // Drops the blobs of the intermediate (empty, unconfigured) manifests; the index comes after, so gc
  // need not know how to walk one.
  umoci('gc', '--layout', layout);
  return writeIndex(layout, tag, refs, config.labels);
}

/** The Talos extension service definition with the executable's paths filled in. */
function extensionFiles(dir) {
  const src = path.join(root, 'deploy', 'talos-extension');
  const manifest = readFileSync(path.join(src, 'manifest.yaml'), 'utf8').replaceAll('$VERSION', pkg.version);
  writeFileSync(path.join(dir, 'manifest.yaml'), manifest, { mode: 0o644 });
  const etc = path.join(dir, 'rootfs/usr/local/etc/containers');
  mkdirSync(etc, { recursive: true, mode: 0o755 });
  copyFileSync(path.join(src, 'guestlink.yaml'), path.join(etc, 'guestlink.yaml'));
  chmodSync(path.join(etc, 'guestlink.yaml'), 0o644);
}

/** Builds the layouts (both images unless opts.only) for every architecture of opts.arches. */
export async function buildOci(options = {}) {
  const opts = { ...parseArgs([]), ...options };
  for (const tool of ['umoci', 'readelf']) {
    const found = (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => existsSync(path.join(d, tool)));
    if (!found) throw new Error(`build-oci: ${tool} not found (Debian: apt-get install ${tool === 'readelf' ? 'binutils' : tool})`);
  }
  const log = opts.quiet ? () => {} : (m) => process.stderr.write(`build-oci: ${m}\n`);
  mkdirSync(opts.out, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'gl-oci-'));
  const result = { tag: opts.tag, platforms: opts.arches.map((a) => `linux/${TARGETS[a].oci}`), libraries: {} };
  try {
    const agentRoots = {};
    for (const arch of opts.arches) {
      const seaOut = opts.seaOut ? defaultSeaOut(arch, opts.seaOut) : undefined;
      const sea = await buildSea({ arch, quiet: opts.quiet, ...(seaOut ? { out: seaOut } : {}) }).catch((err) => {
        throw new Error(
          `${err.message}\nbuild-oci: the linux/${TARGETS[arch].oci} images need that executable (or build fewer platforms: --arch x64)`,
        );
      });
      agentRoots[arch] = path.join(work, `agent-${arch}`);
      result.libraries[arch] = populateAgentRootfs(agentRoots[arch], sea, arch).libraries;
    }
    if (opts.only !== 'extension') {
      const layout = path.join(opts.out, 'guestlink');
      const t0 = performance.now();
      const digest = buildLayout(layout, opts.tag, opts.arches, (arch) => agentRoots[arch], {
        what: 'agent',
        entrypoint: ['/usr/local/bin/guestlink', 'agent'],
        // The defaults of a plain `docker run --device ...`; the DaemonSet passes its own arguments.
        cmd: ['--method', 'virtio-serial', '--statedir', '/run/guestlink'],
        user: '0:0',
        workingdir: '/',
        stopsignal: 'SIGTERM',
        labels: labels('guestlink', 'guestlink guest agent (QEMU Guest Agent protocol) for Kubernetes nodes; entrypoint: the agent'),
      });
      result.agent = { layout, digest, ms: Math.round(performance.now() - t0) };
      log(`${path.relative(process.cwd(), layout)}:${opts.tag} ${result.platforms.join(', ')} (${result.agent.ms} ms)`);
    }
    if (opts.only !== 'agent') {
      const extRoot = (arch) => {
        const dir = path.join(work, `extension-${arch}`);
        const container = path.join(dir, 'rootfs/usr/local/lib/containers/guestlink');
        mkdirSync(path.dirname(container), { recursive: true, mode: 0o755 });
        cpSync(agentRoots[arch], container, { recursive: true, verbatimSymlinks: true });
        extensionFiles(dir);
        return dir;
      };
      const layout = path.join(opts.out, 'guestlink-talos-extension');
      const t0 = performance.now();
      // No entrypoint: Talos's imager unpacks an extension image's layers, it never runs it.
      const digest = buildLayout(layout, opts.tag, opts.arches, extRoot, {
        what: 'talos-extension',
        labels: labels(
          'guestlink-talos-extension',
          'Talos system extension: the guestlink agent as an extension service on the machined socket',
        ),
      });
      result.extension = { layout, digest, ms: Math.round(performance.now() - t0) };
      log(`${path.relative(process.cwd(), layout)}:${opts.tag} ${result.platforms.join(', ')} (${result.extension.ms} ms)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return result;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = await buildOci(parseArgs(process.argv.slice(2)));
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } catch (err) {
    process.stderr.write(`${err.stderr ?? ''}${err.message}\n`);
    process.exit(1);
  }
}
