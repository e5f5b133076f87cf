// guestlink-authenticate: a management-endpoint connection without a client certificate proves who
// it is with a bearer token. The check itself (a TokenReview) is the dispatcher's authorize step,
// which runs before this handler and sets the session's principal; reaching the handler means it
// succeeded. On the hypervisor's channel there is no principal and nothing to authenticate.
import { genericError } from '../protocol/qga/errors.js';
import type { GroupHandlers } from './context.js';

export const authenticateHandlers: GroupHandlers<'authenticate'> = {
  'guestlink-authenticate': (_args, ctx) => {
    if (ctx.session.principal === undefined)
      throw genericError(
        'guestlink-authenticate is for management-endpoint connections (--listen tls://); the hypervisor channel needs no authentication',
        'NOT_ON_ENDPOINT',
      );
    return {};
  },
};
