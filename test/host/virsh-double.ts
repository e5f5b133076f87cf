// A double of virsh for the libvirt connector's fast tests: the subcommands the connector uses
// (list --name, qemu-agent-command, shutdown/reboot --mode agent) with virsh's output and error
// texts (libvirt 9.0, see facts/libvirt-agent-commands.md), forwarding to agent sockets named in
// GL_VIRSH_DOMAINS ({"name": "/path.sock"}); every argv is appended to GL_VIRSH_LOG. It sends
// guest-sync with a millisecond id before the command, as libvirt does on a fresh connection.
// The real virsh against real domains runs in test/e2e/libvirt.test.ts.
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const argv = process.argv.slice(2);
if (process.env.GL_VIRSH_LOG) appendFileSync(process.env.GL_VIRSH_LOG, `${JSON.stringify(argv)}\n`);
const domains = JSON.parse(process.env.GL_VIRSH_DOMAINS ?? '{}') as Record<string, string>;
if (argv[0] === '-c') argv.splice(0, 2);
const [sub, ...rest] = argv;

function fail(msg: string): never {
  process.stderr.write(`error: ${msg}\n`);
  process.exit(1);
}

/** One agent conversation: guest-sync, then the request; resolves with the reply line, or undefined on silence. */
function talk(socket: string, request: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socket);
    const id = Date.now();
    let buf = '';
    let synced = false;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(undefined);
    }, timeoutMs);
    sock.on('error', (e) => reject(e));
    sock.on('connect', () => sock.write(`{"execute":"guest-sync", "arguments":{"id":${id}}}\n`));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!synced) {
          if (line.includes(`"return": ${id}`) || line.includes(`"return":${id}`)) {
            synced = true;
            sock.write(`${request}\n`);
          }
          continue;
        }
        clearTimeout(timer);
        sock.destroy();
        resolve(line);
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

const domain = (name: string | undefined) => {
  const s = name ? domains[name] : undefined;
  if (!s) fail(`failed to get domain '${name}'`);
  return s;
};

async function run(): Promise<void> {
  switch (sub) {
    case 'list':
      process.stdout.write(`${Object.keys(domains).join('\n')}\n\n`);
      return;
    case 'qemu-agent-command': {
      const name = rest[0];
      const t = rest.indexOf('--timeout');
      const seconds = t >= 0 ? Number(rest[t + 1]) : 5;
      const json = rest.filter((_, i) => i > 0 && i !== t && i !== t + 1)[0] ?? '';
      const socket = domain(name);
      const execute = /"execute":\s*"([^"]+)"/.exec(json)?.[1] ?? '?';
      let line: string | undefined;
      try {
        line = await talk(socket, json, seconds * 1000);
      } catch {
        fail('Guest agent is not responding: QEMU guest agent is not connected');
      }
      if (line === undefined) fail('Guest agent is not responding: Guest agent not available for now');
      const reply = JSON.parse(line.replace(/:\s*(\d{16,})/g, ':"$1"'));
      if (reply.error) fail(`internal error: unable to execute QEMU agent command '${execute}': ${reply.error.desc}`);
      process.stdout.write(`${line.replace(/": /g, '":').replace(/, "/g, ',"')}\n`);
      return;
    }
    case 'shutdown':
    case 'reboot': {
      const name = rest[0];
      if (!rest.includes('--mode') || rest[rest.indexOf('--mode') + 1] !== 'agent') fail('this double knows only --mode agent');
      const line = await talk(
        domain(name),
        `{"execute":"guest-shutdown","arguments":{"mode":"${sub === 'reboot' ? 'reboot' : 'powerdown'}"}}`,
        1000,
      );
      if (line?.includes('"error"'))
        fail(`internal error: unable to execute QEMU agent command 'guest-shutdown': ${JSON.parse(line).error.desc}`);
      process.stdout.write(sub === 'reboot' ? `Domain '${name}' is being rebooted\n\n` : `Domain '${name}' is being shutdown\n\n`);
      return;
    }
    default:
      fail(`unknown command: '${sub}'`);
  }
}

await run();
