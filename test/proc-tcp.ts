// The kernel's TCP socket table (/proc/net/tcp and tcp6), for tests that must see what a process has
// accepted or listens on without guessing with a sleep.
import { readFileSync } from 'node:fs';

/** One socket: its local and remote ports, state (0A = LISTEN, 01 = ESTABLISHED) and inode (0 until a file holds it). */
export interface TcpSocket {
  localPort: number;
  remotePort: number;
  state: string;
  inode: string;
}

/** Every IPv4 and IPv6 TCP socket the kernel lists now. */
export function tcpSockets(): TcpSocket[] {
  const port = (addr: string | undefined) => Number.parseInt(addr?.split(':').pop() ?? '', 16);
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((row) => row.trim().split(/\s+/))
      .filter((f) => f.length > 9)
      .map((f) => ({ localPort: port(f[1]), remotePort: port(f[2]), state: f[3] ?? '', inode: f[9] ?? '0' })),
  );
}
