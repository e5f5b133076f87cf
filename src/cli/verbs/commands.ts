// guestlink commands: the QGA command table with argument types (what `call` accepts).
import { COMMAND_NAMES, findCommand } from '../../protocol/qga/commands.js';
import { memberName, typeName } from '../../protocol/qga/schema.js';
import { renderData } from '../output.js';
import type { StandaloneVerb } from './types.js';

export const commands: StandaloneVerb = {
  kind: 'standalone',
  name: 'commands',
  usage: 'commands',
  summary: 'list the QGA commands and their arguments',
  async run(ctx) {
    const rows = COMMAND_NAMES.map((name) => {
      const spec = findCommand(name);
      const args = Object.entries(spec?.args ?? {}).map(([k, t]) => {
        const { name: n, optional } = memberName(k);
        return { name: n, type: typeName(t), optional };
      });
      return { name, args, doc: spec?.doc ?? '' };
    });
    if (ctx.format !== 'table') {
      ctx.io.stdout.write(renderData(ctx.format, rows));
      return 0;
    }
    const line = (r: (typeof rows)[number]) =>
      [r.name, ...r.args.map((a) => (a.optional ? `[${a.name}=${a.type}]` : `${a.name}=${a.type}`))].join(' ');
    ctx.io.stdout.write(`${rows.map(line).join('\n')}\n`);
    return 0;
  },
};
