// PLACEHOLDER while a helper writes this part; replaced before commit.
import { errors } from '../../protocol/qga/errors.js';
import type { SystemInfo } from '../interfaces.js';

export const LinuxSystemInfo = class {
  constructor(_root?: string) {
    // biome-ignore lint/correctness/noConstructorReturn: placeholder
    return new Proxy(
      {},
      {
        get: () => async () => {
          throw errors.unsupported('not implemented yet');
        },
      },
    );
  }
} as unknown as new (
  root?: string,
) => SystemInfo;
