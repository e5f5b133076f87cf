// guestlink etcd-snapshot VM [-f FILE|DIR]: an etcd snapshot taken in the guest now, copied here and
// checked (see host/etcd-snapshot.ts). Over a fleet (several VMs, a pattern), every VM's snapshot goes
// into one directory, named after the VM; nodes without etcd (workers) are listed as skipped, not
// failed, so `guestlink etcd-snapshot 'libvirt:k8s-*' -f backups/` covers the control plane.
// The file option is -f as for kubeconfig: -o is the output format everywhere.
import { stat } from 'node:fs/promises';
import { type FetchedEtcdSnapshot, fetchEtcdSnapshot, NoEtcdSnapshotsError } from '../../host/etcd-snapshot.js';
import { UsageError } from '../args.js';
import { bytes, renderData } from '../output.js';
import { ProgressLine } from '../progress.js';
import type { PerVmVerb, VerbContext, View } from './types.js';

function data(r: FetchedEtcdSnapshot) {
  return {
    file: r.file,
    bytes: r.bytes,
    sha256: r.guest.sha256,
    revision: r.guest.revision,
    guestPath: r.guest.path,
    takenAt: r.guest.takenAt,
    source: r.guest.source,
    verified: 'sha256 as reported by the agent, and etcd digest',
    ms: Math.round(r.ms),
  };
}

function line(r: FetchedEtcdSnapshot): string {
  return `${r.file}: revision ${r.guest.revision}, ${bytes(r.bytes)}, sha256 ${r.guest.sha256} (matches the agent's, etcd digest ok)`;
}

async function fetch(conn: Parameters<PerVmVerb['one']>[0], ctx: VerbContext, target: string, prefix?: string, progress?: ProgressLine) {
  return fetchEtcdSnapshot(conn, target, {
    timeoutMs: Math.max(ctx.timeoutMs, 30_000),
    ...(prefix ? { prefix } : {}),
    onProgress: (done, total) => progress?.update(`${conn.name}: ${bytes(done)}${total !== undefined ? ` / ${bytes(total)}` : ''}`),
  });
}

/** The verb: a per-VM verb, so the fleet machinery (patterns, -j, the summary) applies. */
export const etcdSnapshot: PerVmVerb = {
  kind: 'per-vm',
  name: 'etcd-snapshot',
  usage: 'etcd-snapshot VM... [-f FILE|DIR]',
  summary: "take an etcd snapshot in the guest now and copy it here, checked (control-plane nodes; the agent's --etcd-snapshot-on-demand)",
  trailing: 0,
  async one(conn, ctx): Promise<View> {
    const dir = ctx.options.file ?? '.';
    if (
      !(await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      throw new UsageError(`with several VMs, --file must be an existing directory (each VM's snapshot is named after it): ${dir}`);
    try {
      const r = await fetch(conn, ctx, dir, conn.name);
      return { data: data(r), table: () => `${line(r)}\n`, summary: `${r.file} (revision ${r.guest.revision}, ${bytes(r.bytes)})` };
    } catch (err) {
      if (err instanceof NoEtcdSnapshotsError)
        return { data: { skipped: err.reason }, table: () => `${err.reason}\n`, summary: 'skipped: no etcd on this node' };
      throw err;
    }
  },
  async single(conn, ctx) {
    const progress = new ProgressLine(ctx.io.stderr, !ctx.quiet && Boolean(ctx.io.stderr.isTTY));
    let r: FetchedEtcdSnapshot;
    try {
      r = await fetch(conn, ctx, ctx.options.file ?? '.', undefined, progress);
    } finally {
      progress.done();
    }
    ctx.io.stdout.write(ctx.format === 'table' ? `${line(r)}\n` : renderData(ctx.format, data(r)));
    return 0;
  },
};
