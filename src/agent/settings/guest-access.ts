// What the hypervisor may do inside the guest beyond reading it: guest-exec (the allow list, the
// environment, caps), account changes and guest-file-* (the path lists, caps).
// One part of the agent's settings table: src/agent/settings.ts joins the parts, in a fixed order.
import path from 'node:path';
import { ENV_NAME } from '../../commands/exec-env.js';
import { parseExecRule } from '../../commands/exec-rules.js';
import type { SettingSpec } from '../../settings/index.js';

/** The first --allow-exec entry that cannot be used, said as the error; undefined when all parse. */
function execRuleProblem(entries: readonly string[]): string | undefined {
  for (const entry of entries) {
    if (entry === '*') continue;
    try {
      parseExecRule(entry);
    } catch (err) {
      return `has an entry that cannot be used: ${(err as Error).message}`;
    }
  }
  return undefined;
}

/** The guest-access settings, in their --help and docs order. */
export const GUEST_ACCESS = [
  {
    key: 'allow-exec',
    wildcard: '*',
    check: (v) => execRuleProblem(v as readonly string[]),
    group: 'guestlink',
    type: 'list',
    default: [],
    help: 'programs guest-exec may run, by absolute path (enables guest-exec; "*" allows any); an entry "PROGRAM ARG..." allows only exactly these arguments, ending it with "..." allows more after them (%20 writes a space, %2C a comma inside an argument); otherwise arguments are free',
  },
  {
    key: 'allow-exec-env',
    pattern: { re: ENV_NAME, text: 'an environment variable name (letters, digits and _, not starting with a digit)' },
    group: 'guestlink',
    type: 'list',
    default: [],
    help: 'environment variables a guest-exec request may set; programs otherwise get only PATH (--exec-path) and LANG=C; loader and runtime variables (LD_*, GCONV_PATH, NODE_OPTIONS, PYTHONPATH, BASH_ENV, ...) are refused even when listed',
  },
  {
    key: 'exec-path',
    check: (v) => ((v as string).split(':').every((d) => path.isAbsolute(d)) ? undefined : 'must be absolute directories separated by ":"'),
    group: 'guestlink',
    type: 'string',
    default: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    help: "PATH given to guest-exec programs and used to find a program named without a '/' (absolute directories only)",
  },
  {
    key: 'max-exec-processes',
    min: 1,
    max: 4096,
    group: 'guestlink',
    type: 'int',
    // Proxmox and libvirt run one command at a time; 16 leaves room for a few clients and forgotten statuses.
    default: 16,
    help: 'guest-exec processes kept at once, running or exited but not yet reported by guest-exec-status; more are refused until one is collected',
  },
  {
    key: 'max-exec-output-bytes',
    min: 0,
    group: 'guestlink',
    type: 'int',
    // Four full streams at qemu-ga's 16 MiB per stream; fits the DaemonSet's 256Mi limit with the request buffer.
    default: 64 << 20,
    help: 'captured output kept for unreported guest-exec processes, all together (each stream also stops at 16 MiB, as in qemu-ga); output past it is dropped and flagged truncated',
  },
  {
    key: 'max-exec-input-bytes',
    min: 0,
    group: 'guestlink',
    type: 'int',
    // Twice qemu-ga's per-stream output cap; the largest input-data a 64 MiB request can carry is 48 MiB.
    default: 32 << 20,
    help: 'guest-exec input-data held for programs that have not read it yet, all together; a request whose input-data does not fit is refused',
  },
  {
    key: 'allow-account-changes',
    group: 'guestlink',
    type: 'bool',
    default: false,
    help: 'enable guest-set-user-password and guest-ssh-add/remove-authorized-keys (off: whoever drives the agent channel could make themselves root); naming one in --allow-rpcs enables it too',
  },
  {
    key: 'allow-file-read',
    absolute: true,
    group: 'guestlink',
    type: 'list',
    default: [],
    help: 'files, or directories ending in "/", that guest-file-open may read (enables guest-file-*)',
  },
  {
    key: 'allow-file-write',
    absolute: true,
    group: 'guestlink',
    type: 'list',
    default: [],
    help: 'files, or directories ending in "/", that guest-file-open may write (enables guest-file-*)',
  },
  {
    key: 'allow-file-hardlinks',
    group: 'guestlink',
    type: 'bool',
    default: false,
    help: 'let guest-file-open open files that have other hard links (another name of such a file may be outside the allow-lists)',
  },
  {
    key: 'max-file-handles',
    // At most 65536, far below what a process may hold open, so the cap is met before the OS's EMFILE.
    min: 1,
    max: 65536,
    group: 'guestlink',
    type: 'int',
    default: 128,
    help: 'guest-file-* handles open at once, across all connections (handles outlive their connection, as in qemu-ga); more opens get a GenericError',
  },
] as const satisfies readonly SettingSpec[];
