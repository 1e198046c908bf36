import type { Request, Response } from 'express';
import type { License } from '../../domain/model/license.js';
import type { QuotaLimit, QuotaName } from '../../domain/model/quota.js';

/** Where a request's license is pinned: in `res.locals`, under a key no host code or template sees. */
const PINNED_LICENSE = Symbol('softclient4es.license');
/** The amounts `capQuota` settled for this request, per quota. */
const LICENSE_CAPS = Symbol('softclient4es.licenseCaps');

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The license pinned for this request by the enforcement middleware: one request sees one license. */
      license?: License;
      /**
       * The amount of `quota` that a `capQuota` gate settled for this request: the amount the
       * request stated, else the license's limit (the cap), or null when it stated none and the
       * quota is unlimited. Undefined when no `capQuota(quota, …)` gate ran for this request.
       */
      licenseCap?(quota: QuotaName): QuotaLimit | undefined;
    }
    interface Locals {
      [PINNED_LICENSE]?: License;
      [LICENSE_CAPS]?: Partial<Record<QuotaName, QuotaLimit>>;
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

/** Records what `capQuota` settled for `quota` on this request (`req.licenseCap(quota)`). */
export function settleLicenseCap(req: Request, res: Response, quota: QuotaName, amount: QuotaLimit): void {
  const caps = (res.locals[LICENSE_CAPS] ??= {});
  caps[quota] = amount;
  const prototype = Object.getPrototypeOf(req) as object;
  if (prototype !== lastPrototype) exposeLicense(prototype);
}

function exposeLicense(prototype: object): void {
  if (!Object.hasOwn(prototype, 'license')) Object.defineProperty(prototype, 'license', LICENSE_ACCESSOR);
  if (!Object.hasOwn(prototype, 'licenseCap')) Object.defineProperty(prototype, 'licenseCap', LICENSE_CAP_METHOD);
  lastPrototype = prototype;
}

const LICENSE_CAP_METHOD: PropertyDescriptor = {
  configurable: true,
  writable: true,
  value: function licenseCap(this: Request, quota: QuotaName): QuotaLimit | undefined {
    return this.res?.locals[LICENSE_CAPS]?.[quota];
  },
};

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
