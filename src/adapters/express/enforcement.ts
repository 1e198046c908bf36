import type { Request, RequestHandler, Response } from 'express';
import {
  checkFeature,
  checkQuota,
  ConcurrencyGate,
  describeDenial,
  type Denial,
} from '../../domain/enforcement/enforcement.js';
import type { GraceWarnings } from '../../domain/expiry/grace-warnings.js';
import type { Feature } from '../../domain/model/feature.js';
import type { License } from '../../domain/model/license.js';
import type { LicenseSnapshot } from '../../domain/model/license-state.js';
import type { QuotaName } from '../../domain/model/quota.js';
import { tierName } from '../../domain/model/tier.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseTelemetry } from '../../ports/license-telemetry.port.js';
import { pinLicense, pinnedLicense } from './license-request.js';

export interface EnforcementOptions {
  readonly current: () => LicenseSnapshot;
  readonly clock: Clock;
  readonly graceWarnings: GraceWarnings;
  readonly telemetry: LicenseTelemetry;
  readonly upgradeUrl: string;
}

/** Quotas checked per request with a measured amount; concurrency has its own gate. */
export type MeasuredQuota = Exclude<QuotaName, 'max_concurrent_queries'>;

/**
 * Express middleware enforcing the license in force. Everything here reads the in-memory
 * snapshot: no I/O and no cryptography per request.
 */
export class ExpressEnforcement {
  readonly #gate = new ConcurrencyGate();

  constructor(private readonly options: EnforcementOptions) {}

  /**
   * Pins the current license on `req.license` for every request of the app (a refresh that swaps
   * it mid-request does not affect this request) and flags mid-grace responses with a `Warning`
   * header. Optional in front of the gates below: the first gate a request meets pins it too.
   */
  enforce(): RequestHandler {
    return (req, res, next) => {
      this.#pin(req, res);
      next();
    };
  }

  /** Answers 402 `feature_not_available` unless the license grants `feature`. */
  requireFeature(feature: Feature): RequestHandler {
    return (req, res, next) => {
      const denial = checkFeature(this.#license(req, res), feature);
      if (denial === null) next();
      else this.#deny(res, 402, denial);
    };
  }

  /** Answers 402 `quota_exceeded` when `measure(req)` units exceed the license's `quota`. */
  requireQuota(quota: MeasuredQuota, measure: (req: Request) => number): RequestHandler {
    return (req, res, next) => {
      const requested = measure(req);
      if (!Number.isFinite(requested) || requested < 0) {
        res.status(400).json({ error: 'invalid_request', message: `the amount requested against ${quota} must be a non-negative number` });
        return;
      }
      const denial = checkQuota(this.#license(req, res), quota, requested);
      if (denial === null) next();
      else this.#deny(res, 402, denial);
    };
  }

  /** Holds a `max_concurrent_queries` slot until the response ends; 429 with `Retry-After` when full. */
  limitConcurrency(): RequestHandler {
    return (req, res, next) => {
      const license = this.#license(req, res);
      const limit = license.quotas.max_concurrent_queries;
      if (!this.#gate.tryEnter(limit)) {
        res.set('Retry-After', '1');
        this.#deny(res, 429, { kind: 'quota', tier: license.tier, quota: 'max_concurrent_queries', limit: limit ?? 0, requested: this.#gate.active + 1 });
        return;
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.#gate.leave();
      };
      res.once('finish', release);
      res.once('close', release);
      next();
    };
  }

  #license(req: Request, res: Response): License {
    return pinnedLicense(res) ?? this.#pin(req, res);
  }

  #pin(req: Request, res: Response): License {
    const { license } = this.options.current();
    pinLicense(req, res, license);
    // getTime(): comparing two Dates with `>` converts both through valueOf on every request.
    if (license.expiresAt !== null && this.options.clock.now().getTime() > license.expiresAt.getTime()) {
      const status = this.options.graceWarnings.check(license); // rate-limited WARN
      if (status === 'mid_grace') {
        res.set('Warning', `299 - "License expired on ${license.expiresAt.toISOString()}; renew it to keep the ${tierName(license.tier)} tier"`);
      }
    }
    return license;
  }

  #deny(res: Response, status: 402 | 429, denial: Denial): void {
    this.options.telemetry.enforcementDenied({ kind: denial.kind, name: denial.kind === 'quota' ? denial.quota : denial.feature });
    const common = { tier: tierName(denial.tier), message: describeDenial(denial), upgrade_url: this.options.upgradeUrl };
    const body =
      denial.kind === 'quota'
        ? { error: 'quota_exceeded', quota: denial.quota, limit: denial.limit, requested: denial.requested, ...common }
        : { error: 'feature_not_available', feature: denial.feature, ...common };
    res.status(status).json(body);
  }
}
