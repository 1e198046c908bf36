import type { Request, RequestHandler, Response } from 'express';
import {
  checkFeature,
  checkQuota,
  ConcurrencyGate,
  describeDenial,
  type Denial,
} from '../../domain/enforcement/enforcement.js';
import type { GraceWarnings } from '../../domain/expiry/grace-warnings.js';
import { FEATURES, type Feature } from '../../domain/model/feature.js';
import type { License } from '../../domain/model/license.js';
import type { LicenseSnapshot } from '../../domain/model/license-state.js';
import { QUOTA_NAMES, type QuotaName } from '../../domain/model/quota.js';
import { tierName } from '../../domain/model/tier.js';
import type { Clock } from '../../ports/clock.port.js';
import type { UsageObserver } from '../../domain/telemetry/usage-counters.js';
import type { LicenseTelemetry } from '../../ports/license-telemetry.port.js';
import { pinLicense, pinnedLicense } from './license-request.js';

export interface EnforcementOptions {
  /** The snapshot in force, as stored (no clock read). */
  readonly snapshot: () => LicenseSnapshot;
  /** The snapshot in force at `nowMs`, a license past its grace expired first (`ExpireLicense.current`). */
  readonly currentAt: (nowMs: number) => LicenseSnapshot;
  readonly clock: Clock;
  readonly graceWarnings: GraceWarnings;
  readonly telemetry: LicenseTelemetry;
  /** Told the number of queries running whenever it changes (the peaks of DESIGN §12); null or absent: nobody. */
  readonly usage?: UsageObserver | null;
  readonly upgradeUrl: string;
}

/**
 * The most query parameters Express's query parsers keep (qs `parameterLimit`, querystring
 * `maxKeys`): beyond it they drop the rest silently.
 */
export const QUERY_PARAMETER_LIMIT = 1000;
// An empty parameter takes one character ("&"), and the parsers count empty ones: a URL that holds
// more than QUERY_PARAMETER_LIMIT parameters holds at least that many "&" after its "?".
const SHORTEST_CUT_QUERY = QUERY_PARAMETER_LIMIT;

/** Quotas checked per request with a measured amount; concurrency has its own gate. */
export type MeasuredQuota = Exclude<QuotaName, 'max_concurrent_queries'>;

export const MEASURED_QUOTAS: readonly MeasuredQuota[] = QUOTA_NAMES.filter(
  (name): name is MeasuredQuota => name !== 'max_concurrent_queries',
);

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

  /**
   * Answers 402 `feature_not_available` unless the license grants `feature`. Throws `TypeError`
   * at once, when the route is built, for a name that is not a feature (a typo would otherwise be a
   * 402 on every request).
   */
  requireFeature(feature: Feature): RequestHandler {
    if (!(FEATURES as readonly unknown[]).includes(feature)) {
      throw new TypeError(`requireFeature: unknown feature ${JSON.stringify(feature)}; expected one of ${FEATURES.join(', ')}`);
    }
    return (req, res, next) => {
      const denial = checkFeature(this.#license(req, res), feature);
      if (denial === null) next();
      else this.#deny(res, 402, denial);
    };
  }

  /**
   * Answers 402 `quota_exceeded` when `measure(req)` units exceed the license's `quota`. Fails
   * closed: 400 when the amount is not a non-negative number, or when the query string holds more
   * parameters than the parser keeps — a dropped parameter must not measure as 0. Throws
   * `TypeError` when the route is built for a name that is not a measured quota, or no `measure`.
   */
  requireQuota(quota: MeasuredQuota, measure: (req: Request) => number): RequestHandler {
    if (!(MEASURED_QUOTAS as readonly unknown[]).includes(quota)) {
      throw new TypeError(`requireQuota: unknown quota ${JSON.stringify(quota)}; expected one of ${MEASURED_QUOTAS.join(', ')}`);
    }
    if (typeof measure !== 'function') throw new TypeError(`requireQuota(${quota}): measure must be a function of the request`);
    return (req, res, next) => {
      if (req.url.length > SHORTEST_CUT_QUERY && queryParameterCount(req.url) > QUERY_PARAMETER_LIMIT) {
        res.status(400).json({
          error: 'invalid_request',
          message: `the query string has more than ${QUERY_PARAMETER_LIMIT} parameters; ${quota} cannot be measured from it`,
        });
        return;
      }
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
      this.options.usage?.observeUsage('max_concurrent_queries', this.#gate.active);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.#gate.leave();
        this.options.usage?.observeUsage('max_concurrent_queries', this.#gate.active);
      };
      res.once('finish', release);
      res.once('close', release);
      next();
    };
  }

  #license(req: Request, res: Response): License {
    return pinnedLicense(res) ?? this.#pin(req, res);
  }

  /**
   * Per request: one snapshot read and, for a license that expires, one clock read compared with
   * precomputed instants. Expiry is judged here too, not only by timers: after a clock jump past
   * the end of grace, this very request already runs under Community.
   */
  #pin(req: Request, res: Response): License {
    let { license } = this.options.snapshot();
    if (license.expiresAtMs !== Number.POSITIVE_INFINITY) {
      const nowMs = this.options.clock.now().getTime();
      if (nowMs > license.expiresAtMs) license = this.#pastExpiry(license, nowMs, res);
    }
    pinLicense(req, res, license);
    return license;
  }

  #pastExpiry(license: License, nowMs: number, res: Response): License {
    if (nowMs > license.graceEndsAtMs) return this.options.currentAt(nowMs).license;
    this.options.graceWarnings.check(license); // rate-limited WARN
    if (nowMs > license.midGraceAtMs && license.expiresAt !== null) {
      res.set('Warning', `299 - "License expired on ${license.expiresAt.toISOString()}; renew it to keep the ${tierName(license.tier)} tier"`);
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

/** How many `&`-separated parameters the query string of `url` holds (empty ones included). */
function queryParameterCount(url: string): number {
  const start = url.indexOf('?');
  if (start === -1) return 0;
  let count = 1;
  for (let i = url.indexOf('&', start); i !== -1; i = url.indexOf('&', i + 1)) count += 1;
  return count;
}
