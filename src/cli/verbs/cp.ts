// guestlink cp VM:/guest/path ./local   and   guestlink cp ./local VM:/guest/path
import { parseAddress } from '../../host/connectors/addresses.js';
import { download, type TransferResult, upload } from '../../host/files.js';
import { UsageError } from '../args.js';
import { byteCount } from '../options.js';
import { bytes, renderData } from '../output.js';
import { ProgressLine } from '../progress.js';
import type { StandaloneVerb } from './types.js';

/** Splits `ADDRESS:/guest/path` at the last ":/" (addresses contain colons themselves); undefined for a local path. */
export function splitRemote(arg: string): { address: string; path: string } | undefined {
  const i = arg.lastIndexOf(':/');
  if (i <= 0) return undefined;
  const address = arg.slice(0, i);
  const form = parseAddress(address)?.form;
  return form && !form.fleet ? { address, path: arg.slice(i + 1) } : undefined;
}

const HOW: Record<TransferResult['verified'], string> = {
  sha256: "matches the guest's sha256sum",
  readback: 'matches a read-back of the guest file',
  size: "size matches the guest's (no sha256sum in reach: guest-exec not allowed)",
  none: 'not verified',
};

export const cp: StandaloneVerb = {
  kind: 'standalone',
  name: 'cp',
  usage: 'cp VM:/guest/path LOCAL  |  cp LOCAL VM:/guest/path  [--verify auto|none] [--max-bytes BYTES]',
  summary: 'copy a file from or to the guest, chunked and checksummed',
  async run(ctx) {
    const [src, dst, extra] = ctx.args;
    if (!src || !dst || extra !== undefined) throw new UsageError('cp needs a source and a destination, one of them VM:/path');
    const from = splitRemote(src);
    const to = splitRemote(dst);
    if (Boolean(from) === Boolean(to))
      throw new UsageError(
        'cp copies between this host and one VM: exactly one side must be VM:/path (e.g. unix:/run/qga.sock:/etc/hosts)',
      );
    const remote = (from ?? to) as { address: string; path: string };
    const conn = ctx.connector.connect(remote.address);
    // A byte counter only makes sense redrawn in place: nothing when stderr is not a terminal.
    const progress = new ProgressLine(ctx.io.stderr, !ctx.quiet && Boolean(ctx.io.stderr.isTTY));
    const t0 = performance.now();
    const onProgress = (done: number, total: number | undefined) => {
      const rate = done / 1048576 / Math.max(0.001, (performance.now() - t0) / 1000);
      progress.update(`${bytes(done)}${total !== undefined ? ` / ${bytes(total)}` : ''}  ${rate.toFixed(1)} MiB/s`);
    };
    const maxBytes = byteCount(ctx.options.maxBytes);
    if (maxBytes !== undefined && !from) throw new UsageError('--max-bytes bounds downloads (cp VM:/path LOCAL)');
    const opts = {
      ...(maxBytes !== undefined ? { maxBytes } : {}),
      timeoutMs: Math.max(ctx.timeoutMs, 30_000),
      verify: ctx.options.verify,
      onProgress,
    };
    let r: TransferResult;
    try {
      r = from ? await download(conn, from.path, dst, opts) : await upload(conn, src, remote.path, opts);
    } finally {
      progress.done();
    }
    const mibs = r.bytes / 1048576 / Math.max(0.001, r.ms / 1000);
    if (ctx.format === 'table') {
      ctx.io.stdout.write(
        `${r.bytes} bytes in ${(r.ms / 1000).toFixed(2)} s (${mibs.toFixed(1)} MiB/s, ${r.chunks} chunk(s)); sha256 ${r.sha256}: ${HOW[r.verified]}\n`,
      );
    } else ctx.io.stdout.write(renderData(ctx.format, { ...r, ms: Math.round(r.ms), direction: from ? 'download' : 'upload' }));
    return 0;
  },
};
