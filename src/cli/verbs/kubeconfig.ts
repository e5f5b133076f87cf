// guestlink kubeconfig VM: fetch the admin kubeconfig without SSH (host/kubeconfig/fetch.ts), judge it
// as untrusted input (guest-yaml.ts, allow-list.ts), point it at the VM, then print, write or merge it
// (merge.ts). Nothing is written when any step refuses.
import os from 'node:os';
import path from 'node:path';
import { UnsafeKubeconfigError } from '../../host/errors.js';
import { allowListKubeconfig, insecureClusters } from '../../host/kubeconfig/allow-list.js';
import { fetchKubeconfig, vmAddress } from '../../host/kubeconfig/fetch.js';
import { parseGuestYaml } from '../../host/kubeconfig/guest-yaml.js';
import {
  mergeInto,
  readLocalKubeconfig,
  renameEntries,
  renderKubeconfig,
  rewriteServers,
  writeKubeconfig,
} from '../../host/kubeconfig/merge.js';
import { UsageError } from '../args.js';
import { byteCount } from '../options.js';
import { renderData } from '../output.js';
import { ProgressLine } from '../progress.js';
import { terminalSafe } from '../terminal-text.js';
import type { StandaloneVerb, VerbContext } from './types.js';

async function fetchWithProgress(ctx: VerbContext, vm: string) {
  const o = ctx.options;
  const conn = ctx.connector.connect(vm);
  const progress = new ProgressLine(ctx.io.stderr, !ctx.quiet);
  const waitMs = o.wait ? o.waitTimeout * 1000 : undefined;
  const maxBytes = byteCount(o.maxBytes);
  // On a terminal the spinner turns between rounds too (a round is 2 s); elsewhere one line per 10 s.
  const t0 = Date.now();
  const show = (force = false) => progress.update(`waiting for the kubeconfig on ${vm} (${Math.round((Date.now() - t0) / 1000)} s)`, force);
  let spinner: NodeJS.Timeout | undefined;
  try {
    const fetched = await fetchKubeconfig(conn, {
      timeoutMs: ctx.timeoutMs,
      ...(o.path.length > 0 ? { paths: [...o.path] } : {}),
      ...(waitMs !== undefined ? { waitMs } : {}),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
      onWait: (_ms, round) => {
        show(round === 1);
        if (progress.tty && !spinner) spinner = setInterval(show, 250);
      },
    });
    return { conn, fetched };
  } finally {
    clearInterval(spinner);
    progress.done();
  }
}

export const kubeconfig: StandaloneVerb = {
  kind: 'standalone',
  name: 'kubeconfig',
  usage:
    'kubeconfig VM [--path P] [--api-server URL|HOST] [--wait [--wait-timeout S]] [--max-bytes N] [-f FILE] [--merge [--name N] [--set-current] [--allow-insecure]]',
  summary: "fetch the cluster's admin kubeconfig (KubeSolo, k3s, kubeadm) without SSH; only embedded credentials are kept",
  async run(ctx) {
    const [vm, extra] = ctx.args;
    if (!vm || extra !== undefined) throw new UsageError('kubeconfig takes one VM');
    const o = ctx.options;
    const merge = o.merge;
    if (!o.wait && ctx.given.has('wait-timeout')) throw new UsageError('--wait-timeout needs --wait');
    if (o.setCurrent && !merge) throw new UsageError('--set-current needs --merge');
    if (o.allowInsecure && !merge) throw new UsageError('--allow-insecure applies to --merge (written files are only warned about)');
    const say = (line: string) => ctx.io.stderr.write(`guestlink: ${terminalSafe(line)}\n`);

    const { conn, fetched } = await fetchWithProgress(ctx, vm);
    const source = `${fetched.path} on ${vm}`;
    const { config, dropped } = allowListKubeconfig(parseGuestYaml(fetched.text), source);
    if (dropped.length > 0 && !ctx.quiet) say(`left out of the guest's kubeconfig: ${dropped.join('; ')}`);
    const insecure = insecureClusters(config);
    if (insecure.length > 0) {
      const what = `insecure-skip-tls-verify is set for cluster ${insecure.join(', ')}: kubectl will not check the API server's certificate, so whoever answers at its address gets the credentials`;
      if (merge && !o.allowInsecure)
        throw new UnsafeKubeconfigError(
          `${what}. Not merged; pass --allow-insecure to merge it anyway, or ask for a kubeconfig with certificate-authority-data`,
        );
      say(`WARNING: ${what}`);
    }

    const apiServer = o.apiServer;
    const vmIp = apiServer ? undefined : await vmAddress(conn, { timeoutMs: ctx.timeoutMs }).catch(() => undefined);
    const changed = rewriteServers(config, { ...(apiServer ? { apiServer } : {}), ...(vmIp ? { vmIp } : {}) });
    if (!apiServer && !vmIp && config.clusters.some((c) => /^https:\/\/(127\.|localhost|\[::1\])/.test(c.cluster.server)))
      say('the VM reports no usable address; the server still points at loopback (pass --api-server)');
    const name = o.name ?? (merge ? conn.name : undefined);
    if (name) renameEntries(config, name);
    let file = o.file;
    if (merge && !file) file = ctx.env.KUBECONFIG?.split(path.delimiter)[0] || path.join(os.homedir(), '.kube', 'config');
    const how = `${fetched.path} (${fetched.distro}, via ${fetched.via})${changed.map(([a, b]) => `; server ${a} -> ${b}`).join('')}`;

    if (!file) {
      // The kubeconfig itself is the output; what happened goes to stderr.
      ctx.io.stdout.write(renderKubeconfig(config));
      if (!ctx.quiet) say(how);
      return 0;
    }
    let text = renderKubeconfig(config);
    let merged: ReturnType<typeof mergeInto> | undefined;
    if (merge) {
      merged = mergeInto(await readLocalKubeconfig(file), config, { setCurrent: o.setCurrent });
      text = merged.text;
      if (merged.prefix)
        say(
          `${file} already uses one of the names; the guest's entries are merged as ${merged.prefix}... (context ${merged.contexts.join(', ')}); nothing in ${file} was replaced`,
        );
    }
    await writeKubeconfig(file, text);
    if (ctx.format === 'table') {
      const current = merged?.current
        ? `; current context ${merged.current}`
        : merged
          ? `; contexts ${merged.contexts.join(', ')} (current context unchanged)`
          : '';
      ctx.io.stdout.write(`${terminalSafe(`${merge ? 'merged into' : 'wrote'} ${file} (0600) from ${how}${current}`)}\n`);
    } else {
      ctx.io.stdout.write(
        renderData(ctx.format, {
          vm,
          path: fetched.path,
          distro: fetched.distro,
          via: fetched.via,
          servers: changed.map(([from, to]) => ({ from, to })),
          file,
          merged: merge,
          contexts: config.contexts.map((x) => x.name),
          ...(merged ? { prefix: merged.prefix, currentContext: merged.current ?? null } : {}),
          dropped,
          insecure,
        }),
      );
    }
    return 0;
  },
};
