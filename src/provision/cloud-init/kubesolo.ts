// The KubeSolo install step, as KubeSolo's own docs give it (portainer/kubesolo INSTALL.md and
// docs/installation/flags.md): the script at https://get.kubesolo.io with --version, --path,
// --apiserver-extra-sans, --local-storage and --proxy flags; it detects the init system (systemd,
// OpenRC, ...) and libc (glibc, musl) itself. The docs pipe it into `sh -s --`; we download it to a file
// first so a cut-off download never runs as half a script. The admin kubeconfig then appears at
// <path>/pki/admin/admin.kubeconfig (default /var/lib/kubesolo), which `guestlink kubeconfig` reads.
import type { KubeSoloConfig } from './config.js';
import { shQuote } from './shell.js';

/** Where the installer is saved in the guest before it runs. */
export const KUBESOLO_SCRIPT = '/run/guestlink-kubesolo-install.sh';

/** The installer's flags for this configuration. */
export function kubesoloFlags(k: KubeSoloConfig): string[] {
  const flags: string[] = [];
  if (k.version) flags.push(`--version=${k.version}`);
  if (k.path) flags.push(`--path=${k.path}`);
  if (k.apiserverExtraSans.length > 0) flags.push(`--apiserver-extra-sans=${k.apiserverExtraSans.join(',')}`);
  if (k.localStorage) flags.push('--local-storage=true');
  if (k.proxy) flags.push(`--proxy=${k.proxy}`);
  return flags;
}

/**
 * runcmd lines: fetch the script (curl -sfL as the docs do), run it with the flags, remove it.
 * cloud-init joins all runcmd lines into one script, so no line may `exit`: later steps must still run.
 */
export function kubesoloRuncmd(k: KubeSoloConfig): string[] {
  const args = kubesoloFlags(k).map(shQuote).join(' ');
  return [
    `curl -sfL ${shQuote(k.installUrl)} -o ${KUBESOLO_SCRIPT} && sh ${KUBESOLO_SCRIPT}${args ? ` ${args}` : ''}`,
    `rm -f ${KUBESOLO_SCRIPT}`,
  ];
}
