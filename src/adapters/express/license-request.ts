import type { Request, Response } from 'express';
import type { License } from '../../domain/model/license.js';

/** Where a request's license is pinned: in `res.locals`, under a key no host code or template sees. */
const PINNED_LICENSE = Symbol('softclient4es.license');

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The license pinned for this request by the enforcement middleware: one request sees one license. */
      license?: License;
    }
    interface Locals {
      [PINNED_LICENSE]?: License;
    }
  }
}

/** The license pinned for this request, if the enforcement middleware ran. */
export const pinnedLicense = (res: Response): License | undefined => res.locals[PINNED_LICENSE];

/**
 * Pins `license` for this request. `req.license` reads it through an accessor on the app's
 * request prototype, defined once: adding an own property to Express's request object costs
 * about 1.5 µs per request (measured), more than all of the enforcement besides.
 */
export function pinLicense(req: Request, res: Response, license: License): void {
  res.locals[PINNED_LICENSE] = license;
  const prototype = Object.getPrototypeOf(req) as object;
  if (prototype !== lastPrototype) exposeLicense(prototype);
}

let lastPrototype: object | null = null;

function exposeLicense(prototype: object): void {
  if (!Object.hasOwn(prototype, 'license')) Object.defineProperty(prototype, 'license', LICENSE_ACCESSOR);
  lastPrototype = prototype;
}

const LICENSE_ACCESSOR: PropertyDescriptor = {
  configurable: true,
  get(this: Request): License | undefined {
    return this.res === undefined ? undefined : pinnedLicense(this.res);
  },
  /** Host code that assigns `req.license` itself gets a plain property, as before. */
  set(this: Request, value: unknown): void {
    Object.defineProperty(this, 'license', { value, writable: true, enumerable: true, configurable: true });
  },
};
