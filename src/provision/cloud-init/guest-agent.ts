// What installing and starting the guest agent takes, for both init systems a KubeSolo-style guest
// may have (systemd on Debian/Ubuntu, OpenRC on Alpine): packages, files and runcmd lines. The init
// system is detected in the guest at boot, since the host cannot know it.
import { VERSION } from '../../version.js';
import type { GuestAgent } from './config.js';
import { shQuote } from './shell.js';

export interface AgentSteps {
  packages: string[];
  writeFiles: { path: string; content: string; permissions: string }[];
  runcmd: string[];
}

// Same executable path and agent flags as deploy/systemd/guestlink-agent.service and
// deploy/openrc/guestlink-agent (a test keeps them equal); the unit here is the short form, without
// that file's sandboxing, which its owner tunes: install deploy/ for the hardened one.
const BIN = '/usr/local/bin/guestlink';
// The npm package installs the agent as its own bin (package.json "bin"), taking the same flags.
const NPM_BIN = '/usr/local/bin/guestlink-agent';
const STAGE = '/usr/local/lib/guestlink';
const PORT = '/dev/virtio-ports/org.qemu.guest_agent.0';
/** The agent's flags in both service definitions. */
export const AGENT_FLAGS = `--method=virtio-serial --path=${PORT} --statedir=/run/guestlink`;

/** The systemd unit: started when the agent port appears, stopped when it goes (as qemu-guest-agent.service). */
export function systemdUnit(command: string): string {
  return `[Unit]
Description=guestlink guest agent (QEMU Guest Agent protocol)
BindsTo=dev-virtio\\x2dports-org.qemu.guest_agent.0.device
After=dev-virtio\\x2dports-org.qemu.guest_agent.0.device
Conflicts=qemu-guest-agent.service

[Service]
Type=simple
ExecStart=${command} ${AGENT_FLAGS}
Restart=always
RestartSec=2
RuntimeDirectory=guestlink
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
UMask=0077

[Install]
WantedBy=dev-virtio\\x2dports-org.qemu.guest_agent.0.device
`;
}

/** The OpenRC script (Alpine, KubeSolo's usual base), supervised like deploy/openrc/guestlink-agent. */
export function openrcScript(command: string): string {
  const [exe, ...sub] = command.split(' ');
  return `#!/sbin/openrc-run
description="guestlink guest agent (QEMU Guest Agent protocol)"
supervisor="supervise-daemon"
command="${exe}"
command_args="${[...sub, AGENT_FLAGS].join(' ')}"
pidfile="/run/\${RC_SVCNAME}.pid"
respawn_delay=2
respawn_max=0
output_log="/var/log/\${RC_SVCNAME}.log"
error_log="/var/log/\${RC_SVCNAME}.log"

depend() {
\tneed localmount
\tafter udev mdev bootmisc
}

start_pre() {
\tcheckpath --directory --mode 0700 /run/guestlink
}
`;
}

/** Starts an installed service with whichever init system the guest runs. */
function startService(name: string): string {
  return (
    `if command -v systemctl >/dev/null 2>&1; then systemctl enable --now ${name} || systemctl start ${name}; ` +
    `elif command -v rc-update >/dev/null 2>&1; then rc-update add ${name} default && rc-service ${name} start; fi`
  );
}

/** Packages, files and commands for the chosen agent. */
export function agentSteps(agent: GuestAgent): AgentSteps {
  switch (agent.kind) {
    case 'none':
      return { packages: [], writeFiles: [], runcmd: [] };
    case 'qemu-guest-agent':
      // Debian/Ubuntu start it from udev when the port exists (its unit is static: enable may refuse,
      // start works); Alpine needs it added to a runlevel.
      return { packages: ['qemu-guest-agent'], writeFiles: [], runcmd: [startService('qemu-guest-agent')] };
    case 'guestlink': {
      const command = agent.url ? `${BIN} agent` : NPM_BIN;
      const install = agent.url
        ? [
            // Verified before it is made executable: the file runs as root.
            `curl -fsSL ${shQuote(agent.url)} -o ${BIN}.download && echo ${shQuote(`${agent.sha256}  ${BIN}.download`)} | sha256sum -c - && chmod 0755 ${BIN}.download && mv ${BIN}.download ${BIN}`,
          ]
        : [
            // The npm package carries the same agent; pinned to this CLI's version so host and guest match.
            `npm install -g guestlink@${VERSION} && { [ -x ${NPM_BIN} ] || ln -s "$(npm prefix -g)/bin/guestlink-agent" ${NPM_BIN}; }`,
          ];
      return {
        packages: agent.url ? ['curl'] : ['nodejs', 'npm'],
        writeFiles: [
          { path: `${STAGE}/guestlink-agent.service`, content: systemdUnit(command), permissions: '0644' },
          { path: `${STAGE}/guestlink-agent.openrc`, content: openrcScript(command), permissions: '0755' },
        ],
        runcmd: [
          ...install,
          // Both want the same port: the distribution's agent must not hold it.
          `if command -v systemctl >/dev/null 2>&1; then systemctl disable --now qemu-guest-agent 2>/dev/null; cp ${STAGE}/guestlink-agent.service /etc/systemd/system/ && systemctl daemon-reload; ` +
            `elif command -v rc-update >/dev/null 2>&1; then rc-service qemu-guest-agent stop 2>/dev/null; rc-update del qemu-guest-agent 2>/dev/null; cp ${STAGE}/guestlink-agent.openrc /etc/init.d/guestlink-agent; fi`,
          startService('guestlink-agent'),
        ],
      };
    }
  }
}
