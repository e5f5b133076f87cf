// guestlink exec VM -- program args: output to our stdout/stderr, the program's exit status passed
// through (128+N when signal N ended it, as shells do), 255 when guestlink itself failed.
import { Buffer } from 'node:buffer';
import { execInGuest, shellStatus } from '../../host/exec.js';
import { UsageError } from '../args.js';
import type { PerVmVerb, VerbContext } from './types.js';

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  6: 'SIGABRT',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  15: 'SIGTERM',
};

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(parts);
}

function request(ctx: VerbContext, input?: Buffer) {
  const [path, ...args] = ctx.rest;
  if (!ctx.sawTerminator || !path) throw new UsageError('exec needs the command after --: guestlink exec VM -- /bin/uname -a');
  // Not given: the agent's environment; given: exactly these variables.
  const env = ctx.given.has('env') ? [...ctx.options.env] : undefined;
  return { path, args, ...(env ? { env } : {}), ...(input ? { input } : {}) };
}

export const exec: PerVmVerb = {
  kind: 'per-vm',
  name: 'exec',
  usage: 'exec VM... [-i] [-e NAME=VALUE ...] -- PROGRAM [ARG ...]',
  summary: 'run a program in the guest (no shell); its exit status becomes ours',
  trailing: 0,
  async one(conn, ctx) {
    const r = await execInGuest(conn, request(ctx), { timeoutMs: ctx.timeoutMs });
    const status = shellStatus(r);
    const how = r.signal !== undefined ? `signal ${r.signal}` : `exit ${r.exitCode}`;
    return {
      data: { exitCode: r.exitCode, signal: r.signal, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') },
      table: () => r.stdout.toString('utf8'),
      summary: how,
      failed: status !== 0,
    };
  },
  async single(conn, ctx) {
    const input = ctx.options.stdin ? await readAll(ctx.io.stdin) : undefined;
    const r = await execInGuest(conn, request(ctx, input), {
      timeoutMs: ctx.timeoutMs,
      onStdout: (b) => ctx.io.stdout.write(b),
      onStderr: (b) => ctx.io.stderr.write(b),
    });
    if (r.stdoutTruncated || r.stderrTruncated)
      ctx.io.stderr.write('guestlink: the agent truncated the output (QGA keeps at most 16 MiB per stream)\n');
    if (r.signal !== undefined)
      ctx.io.stderr.write(`guestlink: the program was killed by signal ${r.signal}${SIGNALS[r.signal] ? ` (${SIGNALS[r.signal]})` : ''}\n`);
    return shellStatus(r);
  },
};
