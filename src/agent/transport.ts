// The hypervisor's QGA channel (--method, --path): which transport carries it. Each is loaded only
// when configured; the serial ports get the native addon's readiness events when it is built, unix-listen
// its listening socket.
import type { Logger } from 'pino';
import type { Transport } from '../transport/types.js';
import { type AgentConfig, ConfigError } from './config.js';
import { connectionRefusal } from './serve.js';

/** The transport --method names, made for --path (the agent serves it once the rest is wired). */
export async function createTransport(config: AgentConfig, log: Logger): Promise<Transport> {
  switch (config.method) {
    case 'unix-listen': {
      const { UnixListenTransport } = await import('../transport/unix-listen.js');
      // With the native addon the agent accepts the hosts itself and reads them into one buffer.
      const { nativeUnixSocket } = await import('../native/addon.js');
      return new UnixListenTransport(config.path, {
        native: nativeUnixSocket(),
        maxConnections: config.maxConnections,
        refusal: connectionRefusal(config.maxConnections),
        maxQueuedBytes: config.maxQueuedReplyBytes,
        log: log.child({ transport: config.method }),
      });
    }
    case 'virtio-serial':
    case 'isa-serial': {
      const { SerialPortTransport } = await import('../transport/serial-port.js');
      // With the native addon the kernel wakes the event loop (data, host attach/detach) instead of polling.
      const { nativeReadiness } = await import('../native/addon.js');
      return new SerialPortTransport(config.path, {
        kind: config.method,
        retry: config.retryPath,
        log: log.child({ transport: config.method }),
        readiness: nativeReadiness(),
        maxQueuedBytes: config.maxQueuedReplyBytes,
      });
    }
    default:
      // loadConfig already refused it with the reason.
      throw new ConfigError(`method ${config.method} is not supported`);
  }
}
