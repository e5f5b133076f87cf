// PLACEHOLDER while a helper writes this group; replaced before commit.
import type { Handler } from './context.js';

export const freezeHandlers: Record<string, Handler> = {};
