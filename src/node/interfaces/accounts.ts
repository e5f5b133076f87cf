// User accounts: passwords and SSH authorized keys (guest-set-user-password, guest-ssh-*).
// One of the node interfaces (node/interfaces.ts re-exports them all).

/** Local users' passwords and SSH authorized keys, changed only through the back end. */
export interface Accounts {
  setPassword(user: string, password: string, crypted: boolean): Promise<void>;
  authorizedKeys(user: string): Promise<string[]>;
  addAuthorizedKeys(user: string, keys: string[], reset: boolean): Promise<void>;
  removeAuthorizedKeys(user: string, keys: string[]): Promise<void>;
}
