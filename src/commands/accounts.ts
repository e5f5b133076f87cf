// Passwords and SSH keys, where the node OS allows them.
import { genericError } from '../protocol/qga/errors.js';
import type { Handler } from './context.js';

export const accountsHandlers: Record<string, Handler> = {
  'guest-set-user-password': async (args: { username: string; password: string; crypted: boolean }, ctx) => {
    const raw = Buffer.from(args.password, 'base64');
    if (raw.toString('base64').replace(/=+$/, '') !== args.password.replace(/\s/g, '').replace(/=+$/, ''))
      throw genericError('Base64 data contains invalid characters', 'BAD_ARGUMENT');
    const password = raw.toString('utf8');
    if (!args.crypted && /[\n]/.test(password)) throw genericError('Password contains invalid characters', 'BAD_ARGUMENT');
    await ctx.node.accounts.setPassword(args.username, password, args.crypted);
  },
  'guest-ssh-get-authorized-keys': async (args: { username: string }, ctx) => ({
    keys: await ctx.node.accounts.authorizedKeys(args.username),
  }),
  'guest-ssh-add-authorized-keys': async (args: { username: string; keys: string[]; reset?: boolean }, ctx) => {
    await ctx.node.accounts.addAuthorizedKeys(args.username, args.keys, args.reset === true);
  },
  'guest-ssh-remove-authorized-keys': async (args: { username: string; keys: string[] }, ctx) => {
    await ctx.node.accounts.removeAuthorizedKeys(args.username, args.keys);
  },
};
