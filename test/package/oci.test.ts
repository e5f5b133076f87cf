// The OCI images of scripts/build-oci.mjs, built here with umoci (no container engine) and checked
// the way a registry client and a runtime see them: each tag is an image index for linux/amd64 and
// linux/arm64 (skopeo inspect --raw; skopeo picks each platform's image from it), skopeo inspect for
// each platform's config (entrypoint, user, labels), umoci unpack for the layer contents. The agent
// image's rootfs must hold exactly the executable, its addon, the glibc it links and licence texts,
// all of its platform's ELF machine, and the executable must run from it (chroot: no file of this host
// outside the rootfs; the arm64 one through qemu-aarch64-static copied into the chroot). The Talos
// extension must follow the rules Talos applies when it installs one (siderolabs/talos
// pkg/machinery/extensions: load.go, validate.go, services/services.go) on each platform, and its
// service's arguments must be accepted by the agent inside it.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { makeTempDir, RawClient } from '../peer/harness.js';
import { buildOci, missingTools, type OciBuild, PACKAGE_VERSION, waitForSocket } from './build.js';

const isRoot = process.getuid?.() === 0;
/** Only a PATH to find chroot(8); the agent inside gets nothing else from this environment. */
const CHROOT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const skip = missingTools('umoci', 'skopeo', 'readelf', 'aarch64-linux-gnu-gcc', 'qemu-aarch64-static');

function skopeo(...args: string[]): unknown {
  return JSON.parse(execFileSync('skopeo', args, { encoding: 'utf8' }));
}

/** Runs `argv` in `rootfs` with chroot(8), through `emulator` (a static qemu-user copied in) for another architecture. */
function chrootArgs(rootfs: string, emulator: string | undefined, argv: string[]): string[] {
  return emulator ? [rootfs, emulator, ...argv] : [rootfs, ...argv];
}

/** Unpacks an image's layers into `<dir>/rootfs` (rootless when not root). */
function unpack(layout: string, tag: string, dir: string): string {
  execFileSync('umoci', ['unpack', ...(isRoot ? [] : ['--rootless']), '--image', `${layout}:${tag}`, dir], { stdio: 'ignore' });
  return path.join(dir, 'rootfs');
}

/** Every path under `root` ("/usr/local/bin/guestlink"), with its lstat. */
function walk(root: string, rel = '/'): { p: string; st: Stats }[] {
  const out: { p: string; st: Stats }[] = [];
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const p = path.posix.join(rel, name);
    const st = lstatSync(path.join(root, p));
    out.push({ p, st });
    if (st.isDirectory()) out.push(...walk(root, p));
  }
  return out;
}

/** What each platform's image must hold, and how to recognise its binaries. */
const PLATFORMS = [
  {
    oci: 'amd64',
    machine: 'Advanced Micro Devices X86-64',
    emulator: undefined,
    files: [
      '/etc/os-release',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libgcc_s.so.1',
      '/lib/x86_64-linux-gnu/libm.so.6',
      '/lib/x86_64-linux-gnu/libpthread.so.0',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib64/ld-linux-x86-64.so.2',
      '/usr/local/bin/guestlink',
      '/usr/local/bin/guestlink-agent',
      '/usr/local/lib/guestlink/guestlink.node',
    ],
  },
  {
    oci: 'arm64',
    machine: 'AArch64',
    /** qemu-user, copied into the unpacked rootfs for the run tests (chroot needs no binfmt_misc then). */
    emulator: '/usr/bin/qemu-aarch64-static',
    files: [
      '/etc/os-release',
      '/lib/aarch64-linux-gnu/libc.so.6',
      '/lib/aarch64-linux-gnu/libdl.so.2',
      '/lib/aarch64-linux-gnu/libgcc_s.so.1',
      '/lib/aarch64-linux-gnu/libm.so.6',
      '/lib/aarch64-linux-gnu/libpthread.so.0',
      '/lib/aarch64-linux-gnu/libstdc++.so.6',
      '/lib/ld-linux-aarch64.so.1',
      '/usr/local/bin/guestlink',
      '/usr/local/bin/guestlink-agent',
      '/usr/local/lib/guestlink/guestlink.node',
    ],
  },
] as const;

/** The ELF machine readelf reports for a file. */
function elfMachine(file: string): string | undefined {
  return /^\s*Machine:\s+(.+)$/m.exec(execFileSync('readelf', ['-h', file], { encoding: 'utf8' }))?.[1]?.trim();
}

describe('OCI images built with umoci', { skip, timeout: 300_000 }, () => {
  let out: string;
  let work: string;
  let built: OciBuild;
  before(async () => {
    out = makeTempDir('guestlink-oci-');
    work = makeTempDir('guestlink-oci-unpack-');
    built = await buildOci(out);
    console.log(`# build-oci: ${built.ms.toFixed(0)} ms (agent images ${built.agent.ms} ms, extensions ${built.extension.ms} ms)`);
  });
  after(() => {
    for (const d of [out, work]) if (d) rmSync(d, { recursive: true, force: true });
  });

  for (const image of ['agent', 'extension'] as const) {
    test(`${image}: the tag is an OCI image index of linux/amd64 and linux/arm64; skopeo picks each platform's image from it`, () => {
      const layout = built[image].layout;
      const ref = `oci:${layout}:${built.tag}`;
      const index = skopeo('inspect', '--raw', ref) as {
        mediaType: string;
        manifests: { digest: string; mediaType: string; platform: { architecture: string; os: string } }[];
        annotations: Record<string, string>;
      };
      assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.deepEqual(
        index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`),
        ['linux/amd64', 'linux/arm64'],
      );
      assert.deepEqual(built.platforms, ['linux/amd64', 'linux/arm64']);
      assert.equal(index.annotations['org.opencontainers.image.version'], PACKAGE_VERSION);
      const top = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as {
        manifests: { digest: string; annotations: Record<string, string> }[];
      };
      assert.equal(
        top.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === built.tag)?.digest,
        built[image].digest,
      );
      for (const m of index.manifests) {
        assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
        const arch = m.platform.architecture;
        // What a runtime on that platform resolves the one tag to: that platform's image (skopeo 1.9
        // reports the index's digest as Digest then; the layers tell the images apart).
        const picked = skopeo('inspect', '--override-arch', arch, '--override-os', 'linux', ref) as {
          Architecture: string;
          Layers: string[];
        };
        assert.equal(picked.Architecture, arch);
        // umoci (single images only) and single-platform copies use the per-platform ref.
        const alone = skopeo('inspect', `oci:${layout}:${built.tag}-${arch}`) as { Digest: string; Layers: string[] };
        assert.equal(alone.Digest, m.digest);
        assert.deepEqual(picked.Layers, alone.Layers);
      }
    });
  }

  for (const platform of PLATFORMS) {
    const tag = () => `${built.tag}-${platform.oci}`;

    describe(`the agent image, linux/${platform.oci}`, () => {
      let rootfs: string;
      before(() => {
        rootfs = unpack(built.agent.layout, tag(), path.join(work, `agent-${platform.oci}`));
      });

      test(`skopeo sees linux/${platform.oci}, one layer, the agent as entrypoint, uid 0 and the OCI labels`, () => {
        const ref = `oci:${built.agent.layout}:${tag()}`;
        const info = skopeo('inspect', ref) as { Architecture: string; Os: string; Layers: string[]; Labels: Record<string, string> };
        assert.equal(info.Architecture, platform.oci);
        assert.equal(info.Os, 'linux');
        assert.equal(info.Layers.length, 1);
        const config = skopeo('inspect', '--config', ref) as { config: Record<string, unknown> };
        assert.deepEqual(config.config.Entrypoint, ['/usr/local/bin/guestlink', 'agent']);
        assert.deepEqual(config.config.Cmd, ['--method', 'virtio-serial', '--statedir', '/run/guestlink']);
        assert.equal(config.config.User, '0:0');
        assert.equal(config.config.Env, undefined, 'no environment is needed');
        const labels = config.config.Labels as Record<string, string>;
        assert.equal(labels['org.opencontainers.image.version'], PACKAGE_VERSION);
        assert.equal(labels['org.opencontainers.image.title'], 'guestlink');
        assert.equal(labels['org.opencontainers.image.licenses'], 'Apache-2.0');
        assert.deepEqual(info.Labels, labels);
      });

      test(`the layer holds the ${platform.oci} executable, its addon, glibc and licences, and nothing else`, () => {
        const entries = walk(rootfs);
        const files = entries.filter((e) => !e.st.isDirectory()).map((e) => e.p);
        const docs = files.filter((f) => f.startsWith('/usr/local/share/doc/guestlink/'));
        assert.deepEqual(
          files.filter((f) => !docs.includes(f)),
          [...platform.files],
        );
        for (const f of platform.files.filter((f) => /\.so|\/guestlink(\.node)?$/.test(f)))
          assert.equal(elfMachine(path.join(rootfs, f)), platform.machine, `${f} is not ${platform.oci}`);
        assert.ok(docs.includes('/usr/local/share/doc/guestlink/LICENSE.node'), 'Node licence missing');
        assert.ok(
          docs.some((d) => /copyright\.libc6$/.test(d)),
          'glibc copyright missing',
        );
        assert.equal(readlinkSync(path.join(rootfs, 'usr/local/bin/guestlink-agent')), 'guestlink');
        const exe = entries.find((e) => e.p === '/usr/local/bin/guestlink');
        assert.equal((exe?.st.mode ?? 0) & 0o777, 0o755);
        assert.deepEqual(
          entries.filter((e) => (e.st.mode & 0o002) !== 0 && !e.st.isSymbolicLink()).map((e) => e.p),
          [],
          'world-writable entries',
        );
        const dirs = entries.filter((e) => e.st.isDirectory()).map((e) => e.p);
        for (const mountpoint of ['/dev', '/proc', '/sys', '/run/guestlink']) assert.ok(dirs.includes(mountpoint), `${mountpoint} missing`);
      });

      test('runs from its rootfs alone (chroot): CLI and agent --version, and the agent answers on a socket', {
        skip: isRoot ? false : 'chroot needs root',
      }, async () => {
        const emulator = platform.emulator ? `/.${path.basename(platform.emulator)}` : undefined;
        if (platform.emulator && emulator) copyFileSync(platform.emulator, path.join(rootfs, emulator));
        const agent = spawn(
          'chroot',
          chrootArgs(rootfs, emulator, [
            '/usr/local/bin/guestlink',
            'agent',
            '--statedir',
            '/run/guestlink',
            '-m',
            'unix-listen',
            '-p',
            '/run/guestlink/qga.sock',
            '--power',
            'dry-run',
          ]),
          { stdio: ['ignore', 'ignore', 'pipe'], env: CHROOT_ENV },
        );
        let exited = false;
        let stderr = '';
        agent.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        agent.once('exit', () => {
          exited = true;
        });
        try {
          const inRoot = (args: string[]) =>
            execFileSync('chroot', chrootArgs(rootfs, emulator, args), { encoding: 'utf8', env: CHROOT_ENV });
          assert.equal(inRoot(['/usr/local/bin/guestlink', '--version']), `guestlink ${PACKAGE_VERSION}\n`);
          assert.equal(inRoot(['/usr/local/bin/guestlink-agent', '--version']), `guestlink-agent ${PACKAGE_VERSION}\n`);
          // The entrypoint with the image's default command, plus a socket instead of the virtio port.
          const socket = path.join(rootfs, 'run/guestlink/qga.sock');
          await waitForSocket(socket, 30_000, () => !exited).catch((err) => {
            throw new Error(`${err.message}\n${stderr}`);
          });
          const c = await RawClient.connect(socket);
          await c.writeAll(['{"execute":"guest-sync-delimited","arguments":{"id":42}}\n{"execute":"guest-info"}\n']);
          const lines = (await c.collect({ replies: 2, timeoutMs: 20_000 })).toString('latin1').split('\n');
          await c.close();
          assert.equal(lines[0], '\xff{"return": 42}');
          assert.equal(JSON.parse(lines[1] ?? '').return.version, PACKAGE_VERSION);
        } finally {
          if (!exited) {
            const gone = new Promise((r) => agent.once('exit', r));
            agent.kill('SIGTERM');
            await gone;
          }
          if (emulator) rmSync(path.join(rootfs, emulator), { force: true });
        }
      });
    });

    describe(`the Talos system extension image, linux/${platform.oci}`, () => {
      let top: string;
      let ext: string;
      before(() => {
        top = unpack(built.extension.layout, tag(), path.join(work, `extension-${platform.oci}`));
        ext = path.join(top, 'rootfs');
      });

      test(`skopeo: linux/${platform.oci}, one layer, no entrypoint (Talos unpacks it, never runs it)`, () => {
        const config = skopeo('inspect', '--config', `oci:${built.extension.layout}:${tag()}`) as {
          architecture: string;
          config: Record<string, unknown>;
        };
        assert.equal(config.architecture, platform.oci);
        assert.equal(config.config.Entrypoint, undefined);
        assert.equal((config.config.Labels as Record<string, string>)['org.opencontainers.image.title'], 'guestlink-talos-extension');
      });

      test('top level: manifest.yaml and rootfs only; manifest v1alpha1 with name, version, author, description, compatibility', () => {
        assert.deepEqual(readdirSync(top).sort(), ['manifest.yaml', 'rootfs']);
        const m = YAML.parse(readFileSync(path.join(top, 'manifest.yaml'), 'utf8'));
        assert.equal(m.version, 'v1alpha1');
        assert.equal(m.metadata.name, 'guestlink');
        assert.equal(m.metadata.version, PACKAGE_VERSION);
        assert.ok(m.metadata.author);
        assert.match(m.metadata.description, /machined/);
        // Talos parses the constraint with blang/semver ParseRange after dropping the "v".
        assert.match(m.metadata.compatibility.talos.version, /^>= ?v?\d+\.\d+\.\d+$/);
      });

      test('rootfs follows Talos validateContents: regular files only under allowed prefixes, no special files, nothing world-writable', () => {
        // Talos's AllowedPaths (pkg/machinery/extensions/extensions.go) name the x86-64 loader only; an
        // arm64 extension must therefore keep its loader inside the container rootfs, as this one does.
        const allowed = ['/etc/cri/conf.d', '/lib/firmware', '/lib/modules', '/lib64/ld-linux-x86-64.so.2', '/usr/local'];
        for (const { p, st } of walk(ext)) {
          // A symlink's own mode is always 0777 and means nothing on Linux.
          if (!st.isSymbolicLink()) assert.equal(st.mode & 0o002, 0, `world-writable: ${p}`);
          assert.ok(st.isDirectory() || st.isFile() || st.isSymbolicLink(), `special file: ${p}`);
          if (!st.isDirectory())
            assert.ok(
              allowed.some((a) => p.startsWith(a)),
              `not allowed in an extension: ${p}`,
            );
        }
      });

      test(`the service: /usr/local/etc/containers/guestlink.yaml valid as Talos reads it; its container rootfs is the ${platform.oci} agent image`, () => {
        const spec = YAML.parse(readFileSync(path.join(ext, 'usr/local/etc/containers/guestlink.yaml'), 'utf8'));
        assert.match(spec.name, /^[-_a-z0-9]+$/);
        assert.equal(spec.name, 'guestlink');
        assert.equal(spec.restart, 'always');
        assert.deepEqual(spec.depends, [
          { path: '/system/run/machined/machine.sock' },
          { path: '/dev/virtio-ports/org.qemu.guest_agent.0' },
        ]);
        for (const d of spec.depends) assert.equal(Object.keys(d).length, 1, 'Talos allows one kind of dependency per entry');
        const root = path.join(ext, 'usr/local/lib/containers', spec.name);
        const entry = lstatSync(path.join(root, spec.container.entrypoint));
        assert.ok(entry.isFile() && (entry.mode & 0o111) !== 0, `entrypoint ${spec.container.entrypoint} is not an executable file`);
        assert.equal(elfMachine(path.join(root, spec.container.entrypoint)), platform.machine);
        const files = walk(root)
          .filter((e) => !e.st.isDirectory() && !e.p.startsWith('/usr/local/share/doc/'))
          .map((e) => e.p);
        assert.deepEqual(files, [...platform.files]);
        const sources = spec.container.mounts.map((m: { source: string }) => m.source);
        assert.ok(sources.includes('/system/run/machined/machine.sock'));
        assert.ok(sources.includes('/dev'));
        for (const m of spec.container.mounts) {
          assert.equal(m.type, 'bind');
          assert.ok(path.isAbsolute(m.source) && path.isAbsolute(m.destination));
          assert.ok(lstatSync(path.join(root, path.dirname(m.destination))).isDirectory(), `no mount point parent for ${m.destination}`);
        }
        assert.ok(spec.container.args.includes('--node-backend=talos'));
        assert.ok(spec.container.args.includes('--talos-socket=/system/run/machined/machine.sock'));
      });

      test('the agent inside the extension accepts the service arguments (--dump-conf)', {
        skip: isRoot ? false : 'chroot needs root',
      }, () => {
        const spec = YAML.parse(readFileSync(path.join(ext, 'usr/local/etc/containers/guestlink.yaml'), 'utf8'));
        const root = path.join(ext, 'usr/local/lib/containers/guestlink');
        const emulator = platform.emulator ? `/.${path.basename(platform.emulator)}` : undefined;
        if (platform.emulator && emulator) copyFileSync(platform.emulator, path.join(root, emulator));
        let out: string;
        try {
          out = execFileSync('chroot', chrootArgs(root, emulator, [spec.container.entrypoint, ...spec.container.args, '--dump-conf']), {
            encoding: 'utf8',
            env: CHROOT_ENV,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
        } catch (err) {
          assert.fail(`the agent refused the extension's arguments: ${(err as { stderr: string }).stderr}`);
        } finally {
          if (emulator) rmSync(path.join(root, emulator), { force: true });
        }
        assert.match(out, /talos/);
      });
    });
  }

  test('the OCI layouts are self-contained directories skopeo can copy: the whole index (--all) to another layout, one platform to a docker-archive', () => {
    const archive = path.join(os.tmpdir(), `guestlink-${process.pid}.tar`);
    const copy = path.join(work, 'copy');
    try {
      execFileSync('skopeo', ['copy', '--quiet', '--all', `oci:${built.agent.layout}:${built.tag}`, `oci:${copy}:${built.tag}`]);
      const index = skopeo('inspect', '--raw', `oci:${copy}:${built.tag}`) as { manifests: { platform: { architecture: string } }[] };
      assert.deepEqual(
        index.manifests.map((m) => m.platform.architecture),
        ['amd64', 'arm64'],
      );
      execFileSync('skopeo', [
        'copy',
        '--quiet',
        `oci:${built.agent.layout}:${built.tag}`,
        `docker-archive:${archive}:guestlink:${built.tag}`,
      ]);
      const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }));
      assert.deepEqual(manifest[0].RepoTags, [`docker.io/library/guestlink:${built.tag}`]);
      assert.equal(manifest[0].Layers.length, 1);
    } finally {
      rmSync(archive, { force: true });
    }
  });
});
