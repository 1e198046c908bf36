import { QuotaExceededError } from '../model/errors.js';
import { QUOTA_NAMES, type QuotaLimit, type QuotaName, type Quotas } from '../model/quota.js';
import type { UsageObserver } from '../telemetry/usage-counters.js';

/** Gives back what an acquisition took. Idempotent: a second call does nothing. */
export type Release = () => void;

/** `enforce`: gates refuse; `shadow`: gates let everything through and report what they would have refused. */
export type EnforcementMode = 'enforce' | 'shadow';

export const ENFORCEMENT_MODES: readonly EnforcementMode[] = ['enforce', 'shadow'];

/** One quota's usage next to its limit, as the status and the metrics show it. */
export interface QuotaUsage {
  readonly current: number;
  /** Null: unlimited. */
  readonly limit: QuotaLimit;
  /** How far usage is above the limit (a downgrade leaves what exists in place): 0 within it. */
  readonly overage: number;
}

/** How far `current` is above `limit` (a downgrade leaves what exists in place); 0 within it or unlimited. */
export function overageOf(current: number, limit: QuotaLimit): number {
  return limit === null ? 0 : Math.max(0, current - limit);
}

/** Whether `requested` more units fit next to `current` under `limit` (null = unlimited). */
export function fitsCapacity(limit: QuotaLimit, current: number, requested: number): boolean {
  return limit === null || current + requested <= limit;
}

/**
 * What one quota has in use in this process, and the most it had since the last `resetPeak`.
 * Knows no limit: the caller passes the limit of the license it judges by (a gate, the one pinned
 * for its request), so that a new license applies to the very next acquisition.
 */
export class UsageCounter {
  #current = 0;
  #peak = 0;

  /** `observer` learns every change of the count (usage telemetry keeps its own peaks). */
  constructor(
    readonly quota: QuotaName,
    private readonly observer: UsageObserver | null = null,
  ) {}

  get current(): number {
    return this.#current;
  }

  /** The highest usage since the last `resetPeak` (or since start). */
  get peak(): number {
    return this.#peak;
  }

  /** Takes `amount` when it fits under `limit`; null when it does not (nothing taken). */
  tryTake(amount: number, limit: QuotaLimit): Release | null {
    return fitsCapacity(limit, this.#current, amount) ? this.take(amount) : null;
  }

  /** Takes `amount` whatever the limit (shadow mode: usage stays true to what runs). */
  take(amount: number): Release {
    this.#add(amount);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#current = Math.max(0, this.#current - amount);
      this.observer?.observeUsage(this.quota, this.#current);
    };
  }

  /**
   * Replaces the count with `count` (for example the materialized views that exist at start-up).
   * Never refused: it states what exists, even above the limit. Releases of earlier acquisitions
   * still subtract their amount afterwards, down to 0 at least.
   */
  set(count: number): void {
    this.#current = count;
    this.#peak = Math.max(this.#peak, count);
    this.observer?.observeUsage(this.quota, count);
  }

  /** Starts a new peak period: the peak becomes the usage now (what exists stays counted). */
  resetPeak(): void {
    this.#peak = this.#current;
  }

  #add(amount: number): void {
    this.#current += amount;
    if (this.#current > this.#peak) this.#peak = this.#current;
    this.observer?.observeUsage(this.quota, this.#current);
  }
}

/** Called when an acquisition would exceed its quota, in either mode (for telemetry and shadow logs). */
export type OverLimitListener = (event: {
  readonly quota: QuotaName;
  readonly current: number;
  readonly requested: number;
  readonly limit: number;
  readonly mode: EnforcementMode;
}) => void;

/**
 * The usage of one quota as a host sees it (`agent.usage(quota)`): what it has in use, against the
 * limit of the license in force at each call.
 */
export class UsageQuota {
  constructor(
    private readonly counter: UsageCounter,
    private readonly limitNow: () => QuotaLimit,
    private readonly mode: EnforcementMode,
    private readonly onOverLimit: OverLimitListener,
  ) {}

  get quota(): QuotaName {
    return this.counter.quota;
  }

  /** The units in use now. */
  current(): number {
    return this.counter.current;
  }

  /** The limit of the license in force; null: unlimited. */
  limit(): QuotaLimit {
    return this.limitNow();
  }

  /** Usage above the limit of the license in force (after a downgrade); 0 within it. */
  overage(): number {
    const limit = this.limitNow();
    return overageOf(this.counter.current, limit);
  }

  /**
   * States the usage that exists (a count the host knows, such as the views it has): never refused,
   * even above the limit, which then shows as overage. `count` is a non-negative integer.
   */
  set(count: number): void {
    this.counter.set(units(count, 'set', this.quota));
  }

  /**
   * Takes `amount` units (default 1) and returns the function that gives them back (idempotent).
   * Throws `QuotaExceededError` (`QUOTA.EXCEEDED`) when usage + `amount` would exceed the limit of
   * the license in force; in shadow mode it takes them anyway and only reports the overrun.
   */
  acquire(amount = 1): Release {
    const requested = units(amount, 'acquire', this.quota);
    const limit = this.limitNow();
    const release = this.counter.tryTake(requested, limit);
    if (release !== null) return release;
    const event = { quota: this.quota, current: this.counter.current, requested, limit: limit ?? 0, mode: this.mode };
    this.onOverLimit(event);
    if (this.mode === 'shadow') return this.counter.take(requested);
    throw new QuotaExceededError(event.quota, event.current, event.requested, event.limit);
  }

  /** The highest usage since the last `resetPeak`. */
  peak(): number {
    return this.counter.peak;
  }

  resetPeak(): void {
    this.counter.resetPeak();
  }
}

function units(value: number, method: string, quota: QuotaName): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`usage(${quota}).${method}: expected a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/**
 * The usage of every quota in this process: one counter per quota, shared by the gates (which judge
 * by the license pinned for their request), by `agent.usage(quota)` (a `UsageQuota` over the same
 * counter, judging by the license in force at each call), the status and the metrics.
 */
export class UsageQuotas {
  readonly #counters: Readonly<Record<QuotaName, UsageCounter>>;

  /** `observer` learns every change of every count (see `UsageCounter`). */
  constructor(
    private readonly limits: () => Quotas,
    observer: UsageObserver | null = null,
  ) {
    this.#counters = Object.fromEntries(QUOTA_NAMES.map((quota) => [quota, new UsageCounter(quota, observer)])) as Record<QuotaName, UsageCounter>;
  }

  /** The counter of `quota`; a `TypeError` for a name that is not a quota. */
  counter(quota: QuotaName): UsageCounter {
    if (!Object.hasOwn(this.#counters, quota)) {
      throw new TypeError(`usage: unknown quota ${JSON.stringify(quota)}; expected one of ${QUOTA_NAMES.join(', ')}`);
    }
    return this.#counters[quota];
  }

  /** The limit of `quota` in the license in force. */
  limit(quota: QuotaName): QuotaLimit {
    return this.limits()[quota];
  }

  /** Every quota's usage next to the limit of `quotas` (by default the license in force). */
  report(quotas: Quotas = this.limits()): Record<QuotaName, QuotaUsage> {
    return Object.fromEntries(
      QUOTA_NAMES.map((quota) => {
        const current = this.#counters[quota].current;
        const limit = quotas[quota];
        return [quota, { current, limit, overage: overageOf(current, limit) }];
      }),
    ) as Record<QuotaName, QuotaUsage>;
  }
}
