#!/usr/bin/env node
// Builds guestlink's OCI images without a container engine, with umoci:
//
//   node scripts/build-oci.mjs [--out DIR] [--tag TAG] [--only agent|extension]
//
//   DIR/guestlink                    OCI layout, ref TAG: the agent image for the DaemonSet
//   DIR/guestlink-talos-extension    OCI layout, ref TAG: the Talos system extension
//
// Push with skopeo, e.g. `skopeo copy oci:dist/oci/guestlink:0.2.0 docker://ghcr.io/OWNER/guestlink:0.2.0`.
//
// Decisions (and why):
// - umoci, not buildah: nothing here runs inside the image (no RUN step), so all that is needed is
//   "this directory as a layer, this config". umoci writes an OCI layout directly, needs no
//   containers/storage state under /var/lib/containers, no daemon and no user namespace, and works
//   as root or rootless (--rootless) the same way. buildah works here too (as root, vfs driver, its
//   own --root/--runroot: from scratch, copy, config, commit oci:...), but it keeps a containers/
//   storage copy of every layer and needs that state cleaned up after; umoci has nothing to clean.
// - A minimal rootfs: the single executable (scripts/build-sea.mjs), the native addon, the glibc
//   runtime the Node binary links against (found with ldd, copied from the build host), and the
//   licence texts of what is shipped (Node's, and the Debian copyright files of the libraries).
//   No shell, no CA bundle (the agent trusts only the CA given in a talosconfig or the service
//   account's ca.crt, and Node carries its own root store), no /etc/passwd (it runs as uid 0).
// - User 0:0 on purpose: /dev/virtio-ports/* are root-owned 0600 and FIFREEZE needs CAP_SYS_ADMIN;
//   Kubernetes gives a non-root container no effective capabilities, so the narrowing is done by
//   the DaemonSet's capability list instead (deploy/kubernetes/base/daemonset.yaml).
// - The extension image follows Talos's layout (siderolabs/talos pkg/machinery/extensions): only
//   manifest.yaml and rootfs/ at the top; regular files only under /usr/local (an allowed prefix);
//   the service's container rootfs in /usr/local/lib/containers/guestlink (the same tree as the agent
//   image) and its definition in /usr/local/etc/containers/guestlink.yaml; nothing world-writable.
import { execFileSync } from 'node:child_process';
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
import { buildSea, seaNode } from './build-sea.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const SOURCE = 'https://github.com/guestlink/guestlink';

function parseArgs(argv) {
  const opts = { out: path.join(root, 'dist', 'oci'), tag: pkg.version, only: undefined, seaOut: undefined, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = path.resolve(argv[++i] ?? '');
    else if (a === '--tag') opts.tag = argv[++i];
    else if (a === '--only') opts.only = argv[++i];
    else if (a === '--sea-out') opts.seaOut = path.resolve(argv[++i] ?? '');
    else if (a === '--quiet') opts.quiet = true;
    else throw new Error(`build-oci: unknown option ${a} (options: --out DIR --tag TAG --only agent|extension --sea-out DIR --quiet)`);
  }
  if (opts.only !== undefined && !['agent', 'extension'].includes(opts.only)) throw new Error('build-oci: --only takes agent or extension');
  return opts;
}

function umoci(...args) {
  return execFileSync('umoci', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The shared libraries an ELF file loads, as ldd resolves them here: [{ name, path }]. */
export function sharedLibraries(file) {
  const out = execFileSync('ldd', [file], { encoding: 'utf8' });
  const libs = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+) => (\/\S+) \(/.exec(line) ?? /^\s*(\/\S+) \(/.exec(line);
    if (!m) continue;
    if (m.length === 3) libs.push({ name: m[1], path: m[2] });
    else libs.push({ name: path.basename(m[1]), path: m[1] });
  }
  return libs;
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
 * Lays out the agent's root filesystem in `dir`: what /usr/local/bin/guestlink needs to run and
 * nothing else. Library files go where ld.so looks without /etc/ld.so.cache (the interpreter at
 * the ELF's /lib64 path, libraries in Debian's multiarch directory, which glibc searches by default).
 */
export function populateAgentRootfs(dir, sea) {
  const bin = path.join(dir, 'usr/local/bin');
  const lib = path.join(dir, 'usr/local/lib/guestlink');
  const doc = path.join(dir, 'usr/local/share/doc/guestlink');
  for (const d of [bin, lib, doc, 'lib64', 'lib/x86_64-linux-gnu'].map((d) => path.resolve(dir, d)))
    mkdirSync(d, { recursive: true, mode: 0o755 });
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
  const libs = [...sharedLibraries(sea.exe), ...(sea.addon ? sharedLibraries(sea.addon) : [])];
  for (const l of libs) {
    const dest = l.path.startsWith('/lib64/') ? path.join(dir, 'lib64', l.name) : path.join(dir, 'lib/x86_64-linux-gnu', l.name);
    if (existsSync(dest)) continue;
    copyFileSync(realpathSync(l.path), dest);
    chmodSync(dest, 0o755);
    const p = debianPackage(l.path);
    if (p) packages.add(p);
  }
  // Licences of what is shipped: guestlink's, Node's (it lists the licences of Node's own bundled
  // dependencies), and the copyright files of the Debian packages the libraries came from.
  if (existsSync(path.join(root, 'LICENSE'))) copyFileSync(path.join(root, 'LICENSE'), path.join(doc, 'LICENSE'));
  copyFileSync(path.join(seaNode().pkgDir, 'LICENSE'), path.join(doc, 'LICENSE.node'));
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

/** A fresh OCI layout with one image `tag` made of `rootfs` as a single layer and `config`. */
function buildImage(layout, tag, rootfs, config) {
  rmSync(layout, { recursive: true, force: true });
  umoci('init', '--layout', layout);
  umoci('new', '--image', `${layout}:${tag}`);
  const bundle = mkdtempSync(path.join(os.tmpdir(), 'gl-oci-bundle-'));
  try {
    rmSync(bundle, { recursive: true });
    umoci('unpack', '--image', `${layout}:${tag}`, bundle);
    // The unpacked rootfs is empty (a scratch image); copy ours in, keeping symlinks as symlinks.
    cpSync(rootfs, path.join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    umoci('repack', '--image', `${layout}:${tag}`, '--history.created_by', `scripts/build-oci.mjs ${config.what}`, bundle);
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
  const args = ['config', '--image', `${layout}:${tag}`, '--os', 'linux', '--architecture', 'amd64', '--author', 'guestlink'];
  if (config.entrypoint) for (const e of config.entrypoint) args.push('--config.entrypoint', e);
  if (config.cmd) for (const c of config.cmd) args.push('--config.cmd', c);
  if (config.user) args.push('--config.user', config.user);
  if (config.workingdir) args.push('--config.workingdir', config.workingdir);
  if (config.stopsignal) args.push('--config.stopsignal', config.stopsignal);
  for (const [k, v] of Object.entries(config.labels)) args.push('--config.label', `${k}=${v}`, '--manifest.annotation', `${k}=${v}`);
  args.push('--history.created_by', `scripts/build-oci.mjs ${config.what} (config)`);
  umoci(...args);
  umoci('gc', '--layout', layout);
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

export async function buildOci(options = {}) {
  const opts = { ...parseArgs([]), ...options };
  for (const tool of ['umoci', 'ldd']) {
    const found = (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => existsSync(path.join(d, tool)));
    if (!found) throw new Error(`build-oci: ${tool} not found (Debian: apt-get install ${tool === 'ldd' ? 'libc-bin' : tool})`);
  }
  const log = opts.quiet ? () => {} : (m) => process.stderr.write(`build-oci: ${m}\n`);
  const sea = await buildSea({ quiet: opts.quiet, ...(opts.seaOut ? { out: opts.seaOut } : {}) });
  mkdirSync(opts.out, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'gl-oci-'));
  const result = { tag: opts.tag };
  try {
    const agentRoot = path.join(work, 'agent');
    const contents = populateAgentRootfs(agentRoot, sea);
    result.libraries = [...new Set(contents.libraries)];
    if (opts.only !== 'extension') {
      const layout = path.join(opts.out, 'guestlink');
      const t0 = performance.now();
      buildImage(layout, opts.tag, agentRoot, {
        what: 'agent',
        entrypoint: ['/usr/local/bin/guestlink', 'agent'],
        // The defaults of a plain `docker run --device ...`; the DaemonSet passes its own arguments.
        cmd: ['--method', 'virtio-serial', '--statedir', '/run/guestlink'],
        user: '0:0',
        workingdir: '/',
        stopsignal: 'SIGTERM',
        labels: labels('guestlink', 'guestlink guest agent (QEMU Guest Agent protocol) for Kubernetes nodes; entrypoint: the agent'),
      });
      result.agent = { layout, ms: Math.round(performance.now() - t0) };
      log(`${path.relative(process.cwd(), layout)}:${opts.tag} (${result.agent.ms} ms)`);
    }
    if (opts.only !== 'agent') {
      const extRoot = path.join(work, 'extension');
      const container = path.join(extRoot, 'rootfs/usr/local/lib/containers/guestlink');
      mkdirSync(path.dirname(container), { recursive: true, mode: 0o755 });
      cpSync(agentRoot, container, { recursive: true, verbatimSymlinks: true });
      extensionFiles(extRoot);
      const layout = path.join(opts.out, 'guestlink-talos-extension');
      const t0 = performance.now();
      // No entrypoint: Talos's imager unpacks an extension image's layers, it never runs it.
      buildImage(layout, opts.tag, extRoot, {
        what: 'talos-extension',
        labels: labels(
          'guestlink-talos-extension',
          'Talos system extension: the guestlink agent as an extension service on the machined socket',
        ),
      });
      result.extension = { layout, ms: Math.round(performance.now() - t0) };
      log(`${path.relative(process.cwd(), layout)}:${opts.tag} (${result.extension.ms} ms)`);
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
