// `guestlink rollout status [--state FILE]`: where a recorded rollout stands, read from its state
// file (without --state: every rollout state under the default directory). Reads only.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { printable, type RolloutState, readState, stateDir, summaries } from '../../host/rollout/index.js';
import { UsageError } from '../args.js';
import { renderData } from '../output.js';
import type { VerbContext } from '../verbs/types.js';
import { ROLLOUT_EXIT } from './exit.js';
import { statusText } from './render.js';

function files(ctx: VerbContext): string[] {
  if (ctx.options.state !== undefined) return [path.resolve(ctx.options.state)];
  const dir = stateDir(ctx.env);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^rollout-[0-9a-f]{12}\.json$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** `rollout status`: returns the exit code. */
export async function rolloutStatus(ctx: VerbContext, rest: string[]): Promise<number> {
  if (rest.length > 0) throw new UsageError('rollout status takes no VMs: guestlink rollout status [--state FILE]');
  const list = files(ctx);
  if (list.length === 0) {
    ctx.io.stderr.write(`guestlink: no rollout recorded in ${printable(stateDir(ctx.env))} (give --state FILE)\n`);
    return ROLLOUT_EXIT.state;
  }
  const found: { file: string; state: RolloutState }[] = [];
  for (const file of list) {
    const state = readState(file);
    if (!state) {
      ctx.io.stderr.write(`guestlink: ${printable(file)} does not exist\n`);
      return ROLLOUT_EXIT.state;
    }
    found.push({ file, state });
  }
  if (ctx.format === 'table') ctx.io.stdout.write(found.map((f) => statusText(f.file, f.state, summaries(f.state))).join('\n'));
  else
    ctx.io.stdout.write(
      renderData(
        ctx.format,
        found.map((f) => ({
          file: f.file,
          id: f.state.id,
          server: f.state.server,
          context: f.state.context,
          result: f.state.result,
          created: f.state.created,
          updated: f.state.updated,
          ...(f.state.failure ? { failure: f.state.failure } : {}),
          nodes: summaries(f.state),
        })),
      ),
    );
  return ROLLOUT_EXIT.ok;
}
