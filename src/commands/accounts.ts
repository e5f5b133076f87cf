// Passwords and SSH keys, where the node OS allows them.
import { decodeBase64 } from './base64.js';
import type { GroupHandlers } from './context.js';

/** Passwords and SSH keys (group 'accounts'); the changes are off unless --allow-account-changes (policy). */
export const accountsHandlers = {
  'guest-set-user-password': async (args: { username: string; password: string; crypted: boolean }, ctx) => {
    // The back end rejects characters chpasswd cannot take, with qemu-ga's texts.
    const password = decodeBase64(args.password).toString('utf8');
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
} satisfies GroupHandlers<'accounts'>;
