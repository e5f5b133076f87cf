// What the requests of all connections together may hold: one budget shared by every connection, so that
// N hosts with unfinished requests cannot hold N x --max-request-bytes (4 unix-socket clients with unfinished
// 64 MiB messages took the agent to 1.08 GB).

/** Each connection's first bytes are free: small requests (pings, syncs) are never refused for want of budget. */
export const FREE_BYTES_PER_CONNECTION = 64 << 10;

/** The GenericError a request gets when it would take the total past the budget (names the limit and the flag). */
export function overBudgetText(limit: number): string {
  return `the requests in progress on all connections together exceed ${limit} bytes (--max-buffered-request-bytes): send it again once others are answered, or raise the limit`;
}

/**
 * Bytes charged to all connections together: each connection's unfinished message (its bytes as they came
 * plus its token index: JsonStreamReader.bufferedBytes) and its request under way, each beyond
 * FREE_BYTES_PER_CONNECTION. serve() refuses the message that would take the total past `limit`.
 */
export class RequestBudget {
  /** Charged bytes now, all connections together. */
  total = 0;
  readonly overText: string;

  constructor(readonly limit: number) {
    this.overText = overBudgetText(limit);
  }

  /** The charge for `bytes` held by one connection. */
  charge(bytes: number): number {
    return bytes > FREE_BYTES_PER_CONNECTION ? bytes - FREE_BYTES_PER_CONNECTION : 0;
  }
}
