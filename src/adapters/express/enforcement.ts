import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  checkCapacity,
  checkFeature,
  checkQuota,
  deniedName,
  describeDenial,
  type Denial,
  type QuotaDenial,
} from '../../domain/enforcement/enforcement.js';
import { ShadowLog } from '../../domain/enforcement/shadow-log.js';
import type { EnforcementMode, UsageQuotas } from '../../domain/enforcement/usage-quota.js';
import type { GraceWarnings } from '../../domain/expiry/grace-warnings.js';
import { FEATURES, isFeature, type Feature } from '../../domain/model/feature.js';
import type { License } from '../../domain/model/license.js';
import type { LicenseSnapshot } from '../../domain/model/license-state.js';
import { isQuotaName, QUOTA_NAMES, type QuotaName } from '../../domain/model/quota.js';
import { tierName } from '../../domain/model/tier.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseTelemetry } from '../../ports/license-telemetry.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { pinLicense, pinnedLicense, settleLicenseCap } from './license-request.js';

export interface EnforcementOptions {
  /** The snapshot in force, as stored (no clock read). */
  readonly snapshot: () => LicenseSnapshot;
  /** The snapshot in force at `nowMs`, a license past its grace expired first (`ExpireLicense.current`). */
  readonly currentAt: (nowMs: number) => LicenseSnapshot;
  readonly clock: Clock;
  readonly graceWarnings: GraceWarnings;
  readonly telemetry: LicenseTelemetry;
  readonly upgradeUrl: string;
  /** The usage of each quota in this process (`max_concurrent_queries` and the usage quotas). */
  readonly usage: UsageQuotas;
  /** `shadow`: no gate refuses; would-be refusals are counted, logged and marked on the response. */
  readonly mode: EnforcementMode;
  /** Where shadow mode logs its would-be refusals (WARN, at most once a minute per gate). */
  readonly logger: Logger;
}

/** Set by `capQuota` when it capped an unstated amount: `<quota>=<limit>`. */
export const CAPPED_HEADER = 'X-License-Capped';
/** Set in shadow mode by every gate that would have refused the request: the quota or feature. */
export const SHADOW_DENIED_HEADER = 'X-License-Shadow-Denied';

/**
 * Shadow mode: the names a gate already counted as would-be refusals of the request being handled,
 * for the code that runs on behind it (the handler's `agent.usage(quota).acquire`). Set only once a
 * shadow-mode gate would have refused; enforce mode never reads it.
 */
const shadowDeniedInRequest = new AsyncLocalStorage<Set<string>>();
const SHADOW_DENIED = Symbol('softclient4es.shadowDenied');

/**
 * True when a gate of the request being handled already counted a would-be refusal of `name` in
 * shadow mode: the handler's own `acquire` over the same quota is then the same refusal, not a
 * second one (in enforce mode the gate would have answered 402 and the handler never run).
 */
export function shadowDeniedInThisRequest(name: string): boolean {
  return shadowDeniedInRequest.getStore()?.has(name) ?? false;
}

/**
 * The most query parameters Express's query parsers keep (qs `parameterLimit`, querystring
 * `maxKeys`): beyond it they drop the rest silently.
 */
export const QUERY_PARAMETER_LIMIT = 1000;
// An empty parameter takes one character ("&"), and the parsers count empty ones: a URL that holds
// more than QUERY_PARAMETER_LIMIT parameters holds at least that many "&" after its "?".
const SHORTEST_CUT_QUERY = QUERY_PARAMETER_LIMIT;

/** Quotas checked against what one request asks; `max_concurrent_queries` is usage, held by `limitConcurrency`. */
export type MeasuredQuota = Exclude<QuotaName, 'max_concurrent_queries'>;

export const MEASURED_QUOTAS: readonly MeasuredQuota[] = QUOTA_NAMES.filter(
  (name): name is MeasuredQuota => name !== 'max_concurrent_queries',
);

/**
 * Express middleware enforcing the license in force. Everything here reads the in-memory
 * snapshot: no I/O and no cryptography per request.
 */
export class ExpressEnforcement {
  readonly #shadow: boolean;

  constructor(private readonly options: EnforcementOptions) {
    this.#shadow = options.mode === 'shadow';
  }

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
    if (!isFeature(feature)) {
      throw new TypeError(`requireFeature: unknown feature ${JSON.stringify(feature)}; expected one of ${FEATURES.join(', ')}`);
    }
    const log = this.#shadowLog();
    return (req, res, next) => {
      const denial = checkFeature(this.#license(req, res), feature);
      if (denial !== null && this.#refused(res, 402, denial, log)) return;
      this.#continue(res, next);
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
    const log = this.#shadowLog();
    return (req, res, next) => {
      const requested = this.#queryCut(req, res, quota) ? undefined : this.#amount(res, quota, measure(req));
      if (requested === undefined) return; // answered 400
      const denial = checkQuota(this.#license(req, res), quota, requested);
      if (denial !== null && this.#refused(res, 402, denial, log)) return;
      this.#continue(res, next);
    };
  }

  /**
   * Answers 402 `quota_exceeded` (with `current`, `requested` and `limit`) when `measure(req)` more
   * units would take the usage of `quota` (`agent.usage(quota)`) above the license's limit. Only
   * checks: the handler acquires what it creates with `agent.usage(quota).acquire(n)`, which
   * refuses on its own if another request took the room meanwhile. 400 as `requireQuota` for an
   * amount that is not a non-negative number. Throws `TypeError` when the route is built for an
   * unknown quota or no `measure`.
   */
  requireCapacity(quota: QuotaName, measure: (req: Request) => number): RequestHandler {
    if (!isQuotaName(quota)) {
      throw new TypeError(`requireCapacity: unknown quota ${JSON.stringify(quota)}; expected one of ${QUOTA_NAMES.join(', ')}`);
    }
    if (typeof measure !== 'function') throw new TypeError(`requireCapacity(${quota}): measure must be a function of the request`);
    const counter = this.options.usage.counter(quota);
    const log = this.#shadowLog();
    return (req, res, next) => {
      const requested = this.#queryCut(req, res, quota) ? undefined : this.#amount(res, quota, measure(req));
      if (requested === undefined) return; // answered 400
      const denial = checkCapacity(this.#license(req, res), quota, counter.current, requested);
      if (denial !== null && this.#refused(res, 402, denial, log)) return;
      this.#continue(res, next);
    };
  }

  /**
   * Caps what a request did not state: when `measure(req)` is undefined or null, the amount is the
   * license's limit of `quota`, `req.licenseCap(quota)` returns it, and the response carries
   * `X-License-Capped: <quota>=<limit>` (no header, and null from `licenseCap`, when unlimited).
   * An explicit amount is checked as by `requireQuota` (400, 402 over the limit) and `licenseCap`
   * returns it. Throws `TypeError` when the route is built for an unknown quota or no `measure`.
   */
  capQuota(quota: MeasuredQuota, measure: (req: Request) => number | null | undefined): RequestHandler {
    if (!(MEASURED_QUOTAS as readonly unknown[]).includes(quota)) {
      throw new TypeError(`capQuota: unknown quota ${JSON.stringify(quota)}; expected one of ${MEASURED_QUOTAS.join(', ')}`);
    }
    if (typeof measure !== 'function') throw new TypeError(`capQuota(${quota}): measure must be a function of the request`);
    const log = this.#shadowLog();
    return (req, res, next) => {
      if (this.#queryCut(req, res, quota)) return; // answered 400: a dropped parameter is not "unstated"
      const stated = measure(req);
      const license = this.#license(req, res);
      if (stated === undefined || stated === null) {
        const limit = license.quotas[quota];
        if (limit !== null) addToListHeader(res, CAPPED_HEADER, `${quota}=${limit}`);
        settleLicenseCap(req, res, quota, limit);
        this.#continue(res, next);
        return;
      }
      const requested = this.#amount(res, quota, stated);
      if (requested === undefined) return; // answered 400
      const denial = checkQuota(license, quota, requested);
      if (denial !== null && this.#refused(res, 402, denial, log)) return;
      settleLicenseCap(req, res, quota, requested);
      this.#continue(res, next);
    };
  }

  /**
   * Holds one unit of the `max_concurrent_queries` usage until the response ends (finish or close,
   * whichever first); 429 with `Retry-After` when the limit is reached.
   */
  limitConcurrency(): RequestHandler {
    const counter = this.options.usage.counter('max_concurrent_queries');
    const log = this.#shadowLog();
    return (req, res, next) => {
      const license = this.#license(req, res);
      const limit = license.quotas.max_concurrent_queries;
      let release = counter.tryTake(1, limit);
      if (release === null) {
        const denial: QuotaDenial = { kind: 'quota', tier: license.tier, quota: 'max_concurrent_queries', limit: limit ?? 0, requested: counter.current + 1 };
        if (this.#refused(res, 429, denial, log)) return;
        release = counter.take(1); // shadow mode: it runs, so it counts
      }
      // The release is idempotent: 'finish' and 'close' both fire for a response that completes.
      res.once('finish', release);
      res.once('close', release);
      this.#continue(res, next);
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

  /**
   * True once a 400 is sent because the query string holds more parameters than the parser keeps:
   * a dropped parameter must not measure as 0, nor as unstated (fails closed).
   */
  #queryCut(req: Request, res: Response, quota: QuotaName): boolean {
    if (req.url.length <= SHORTEST_CUT_QUERY || queryParameterCount(req.url) <= QUERY_PARAMETER_LIMIT) return false;
    res.status(400).json({
      error: 'invalid_request',
      message: `the query string has more than ${QUERY_PARAMETER_LIMIT} parameters; ${quota} cannot be measured from it`,
    });
    return true;
  }

  /** `requested` when it is a non-negative number; otherwise undefined once a 400 is sent. */
  #amount(res: Response, quota: QuotaName, requested: unknown): number | undefined {
    if (typeof requested === 'number' && Number.isFinite(requested) && requested >= 0) return requested;
    res.status(400).json({ error: 'invalid_request', message: `the amount requested against ${quota} must be a non-negative number` });
    return undefined;
  }

  /** `next()`, inside the request's shadow-mode record once a gate has added to it (see `shadowDeniedInThisRequest`). */
  #continue(res: Response, next: NextFunction): void {
    const denied = (res as Response & { [SHADOW_DENIED]?: Set<string> })[SHADOW_DENIED];
    if (denied === undefined || shadowDeniedInRequest.getStore() === denied) next();
    else shadowDeniedInRequest.run(denied, next);
  }

  #shadowLog(): ShadowLog {
    return new ShadowLog(this.options.clock, this.options.logger);
  }

  /**
   * Answers a denial and returns true; in shadow mode lets the request through instead (false),
   * marking the response with the quota or feature and logging it (rate-limited). Counted either way.
   */
  #refused(res: Response, status: 402 | 429, denial: Denial, log: ShadowLog): boolean {
    const name = deniedName(denial);
    if (this.#shadow) {
      const marked = res as Response & { [SHADOW_DENIED]?: Set<string> };
      (marked[SHADOW_DENIED] ??= new Set()).add(name);
      this.options.telemetry.enforcementDenied({ kind: denial.kind, name, mode: 'shadow' });
      addToListHeader(res, SHADOW_DENIED_HEADER, name);
      log.record(denial, status);
      return false;
    }
    this.options.telemetry.enforcementDenied({ kind: denial.kind, name, mode: 'enforce' });
    const common = { tier: tierName(denial.tier), message: describeDenial(denial), upgrade_url: this.options.upgradeUrl };
    const body =
      denial.kind === 'quota'
        ? {
            error: 'quota_exceeded',
            quota: denial.quota,
            limit: denial.limit,
            ...(denial.current === undefined ? {} : { current: denial.current }),
            requested: denial.requested,
            ...common,
          }
        : { error: 'feature_not_available', feature: denial.feature, ...common };
    if (status === 429) res.set('Retry-After', '1');
    res.removeHeader(CAPPED_HEADER); // nothing is served: an earlier gate's cap does not apply
    res.status(status).json(body);
    return true;
  }
}

/**
 * Adds `item` to the comma-separated list header `name`, once: one field line, as openapi.yaml
 * describes it (`a, b`). `res.append` would repeat the line, and a client that keeps one value of a
 * repeated header (the first or the last, as many do) would miss the others.
 */
function addToListHeader(res: Response, name: string, item: string): void {
  const existing = res.get(name);
  const items = existing === undefined || existing === '' ? [] : existing.split(', ');
  if (!items.includes(item)) res.set(name, [...items, item].join(', '));
}

/** How many `&`-separated parameters the query string of `url` holds (empty ones included). */
function queryParameterCount(url: string): number {
  const start = url.indexOf('?');
  if (start === -1) return 0;
  let count = 1;
  for (let i = url.indexOf('&', start); i !== -1; i = url.indexOf('&', i + 1)) count += 1;
  return count;
}
