import type { License } from '../../domain/model/license.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The license pinned for this request by `enforce()`: one request sees one license. */
      license?: License;
    }
  }
}

export {};
