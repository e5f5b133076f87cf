// guestlink kubeconfig VM: fetch the admin kubeconfig without SSH (see host/kubeconfig.ts for how).
import os from 'node:os';
import path from 'node:path';
import {
  fetchKubeconfig,
  mergeKubeconfig,
  readLocalKubeconfig,
  renameEntries,
  rewriteServer,
  vmAddress,
  writeKubeconfig,
} from '../../host/kubeconfig.js';
import { UsageError } from '../args.js';
import { seconds } from '../options.js';
import { renderData } from '../output.js';
import { ProgressLine } from '../progress.js';
import type { StandaloneVerb } from './types.js';

export const kubeconfig: StandaloneVerb = {
  kind: 'standalone',
  name: 'kubeconfig',
  usage: 'kubeconfig VM [--path P] [--api-server URL|HOST] [--wait [--wait-timeout S]] [-f FILE] [--merge [--name N] [--set-current]]',
  summary: "fetch the cluster's admin kubeconfig (KubeSolo, k3s, kubeadm) without SSH",
  async run(ctx) {
    const [vm, extra] = ctx.args;
    if (!vm || extra !== undefined) throw new UsageError('kubeconfig takes one VM');
    const v = ctx.values;
    const conn = ctx.connector.connect(vm);
    const progress = new ProgressLine(ctx.io.stderr, !ctx.quiet);
    const waitMs = v.wait ? seconds(v['wait-timeout'], 'wait-timeout', 600) : undefined;
    if (!v.wait && v['wait-timeout'] !== undefined) throw new UsageError('--wait-timeout needs --wait');
    let fetched: Awaited<ReturnType<typeof fetchKubeconfig>>;
    // On a terminal the spinner turns between rounds too (a round is 2 s); elsewhere one line per 10 s.
    const t0 = Date.now();
    const show = (force = false) =>
      progress.update(`waiting for the kubeconfig on ${vm} (${Math.round((Date.now() - t0) / 1000)} s)`, force);
    let spinner: NodeJS.Timeout | undefined;
    try {
      fetched = await fetchKubeconfig(conn, {
        timeoutMs: ctx.timeoutMs,
        ...(v.path ? { paths: v.path as string[] } : {}),
        ...(waitMs !== undefined ? { waitMs } : {}),
        onWait: (_ms, round) => {
          show(round === 1);
          if (progress.tty && !spinner) spinner = setInterval(show, 250);
        },
      });
    } finally {
      clearInterval(spinner);
      progress.done();
    }
    const apiServer = v['api-server'] as string | undefined;
    let vmIp: string | undefined;
    if (!apiServer) vmIp = await vmAddress(conn, { timeoutMs: ctx.timeoutMs }).catch(() => undefined);
    const rw = rewriteServer(fetched.text, { ...(apiServer ? { apiServer } : {}), ...(vmIp ? { vmIp } : {}) });
    if (!apiServer && !vmIp && /server:\s*https?:\/\/(127\.|localhost|\[::1\])/.test(fetched.text))
      ctx.io.stderr.write('guestlink: the VM reports no usable address; the server still points at loopback (pass --api-server)\n');
    const merge = v.merge === true;
    const name = (v.name as string | undefined) ?? (merge ? conn.name : undefined);
    const text = name ? renameEntries(rw.text, name) : rw.text;
    let file = v.file as string | undefined;
    if (merge && !file) file = ctx.env.KUBECONFIG?.split(path.delimiter)[0] || path.join(os.homedir(), '.kube', 'config');
    if (v['set-current'] && !merge) throw new UsageError('--set-current needs --merge');
    const report = {
      vm,
      path: fetched.path,
      distro: fetched.distro,
      via: fetched.via,
      servers: rw.changed.map(([from, to]) => ({ from, to })),
      ...(file ? { file, merged: merge } : {}),
    };
    if (!file) {
      // The kubeconfig itself is the output; what happened goes to stderr.
      ctx.io.stdout.write(text);
      if (!ctx.quiet)
        ctx.io.stderr.write(
          `guestlink: ${fetched.path} (${fetched.distro}, via ${fetched.via})${rw.changed.map(([a, b]) => `; server ${a} -> ${b}`).join('')}\n`,
        );
      return 0;
    }
    const out = merge ? mergeKubeconfig(await readLocalKubeconfig(file), text, { setCurrent: v['set-current'] === true }) : text;
    await writeKubeconfig(file, out);
    if (ctx.format === 'table') {
      ctx.io.stdout.write(
        `${merge ? 'merged into' : 'wrote'} ${file} (0600) from ${fetched.path} (${fetched.distro}, via ${fetched.via})${rw.changed.map(([a, b]) => `; server ${a} -> ${b}`).join('')}\n`,
      );
    } else ctx.io.stdout.write(renderData(ctx.format, report));
    return 0;
  },
};
