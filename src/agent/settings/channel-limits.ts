// Caps on what hosts may send and leave unread, per connection and for all of them (docs/security.md).
// One part of the agent's settings table: src/agent/settings.ts joins the parts, in a fixed order.
import type { SettingSpec } from '../../settings/index.js';

/** The channel-limits settings, in their --help and docs order. */
export const CHANNEL_LIMITS = [
  {
    key: 'max-request-bytes',
    min: 1024,
    max: 64 << 20,
    group: 'guestlink',
    type: 'int',
    default: 64 << 20,
    help: 'largest request accepted (qemu-ga: 64 MiB); larger ones get a GenericError. The token limit scales with it: a token per 128 bytes (512k at 64 MiB; qemu-ga: 2M)',
  },
  {
    key: 'max-buffered-request-bytes',
    // At least 1 KiB; at most 1 GiB (past that nothing is bounded in practice).
    min: 1024,
    max: 1 << 30,
    group: 'guestlink',
    type: 'int',
    help: "bytes the requests in progress on all connections may hold together (each one's first 64 KiB free); the request that would go past it gets a GenericError. Default: max-request-bytes (one largest request at a time)",
  },
  {
    key: 'max-connections',
    min: 1,
    max: 1024,
    group: 'guestlink',
    type: 'int',
    default: 16,
    help: 'unix-listen: hosts connected at once; one more gets a GenericError line and is disconnected',
  },
  {
    key: 'max-queued-reply-bytes',
    // At least one 64 KiB chunk; at most 1 GiB.
    min: 64 << 10,
    max: 1 << 30,
    group: 'guestlink',
    type: 'int',
    default: 64 << 20,
    help: 'replies written but not yet taken by hosts, all connections together (one reply is always taken); unix-listen disconnects the host whose reply would go past it, virtio-serial and isa-serial drop the reply',
  },
] as const satisfies readonly SettingSpec[];
