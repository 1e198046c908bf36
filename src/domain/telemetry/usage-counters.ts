import type { Feature } from '../model/feature.js';
import type { QuotaName } from '../model/quota.js';

/** Counts by name since the last successful send; a name appears once it has something to say. */
export interface UsageCounts {
  /** Requests refused (or, in shadow mode, that would have been) for each quota. */
  readonly quotaDenials: Readonly<Partial<Record<QuotaName, number>>>;
  /** Requests refused (or that would have been) for each feature. */
  readonly featureDenials: Readonly<Partial<Record<Feature, number>>>;
  /** The highest usage seen of each usage quota (concurrent queries, materialized views, clusters). */
  readonly peakUsage: Readonly<Partial<Record<QuotaName, number>>>;
}

/**
 * What the token request carries when telemetry is on (DESIGN §12): the counts, how long the agent
 * has run and the operating system it runs on. Nothing else: no request data, no host names.
 */
export interface UsageReport extends UsageCounts {
  /** Whole seconds since the agent started, on a monotonic clock. */
  readonly uptimeSeconds: number;
  /** The operating system, as Node names it (`linux`, `darwin`, `win32`, …). */
  readonly platform: string;
}

/** Told the usage of a usage quota whenever it changes (DESIGN §12), for the peaks. */
export interface UsageObserver {
  observeUsage(quota: QuotaName, current: number): void;
}

interface Marks {
  readonly sequence: number;
  readonly quotaDenials: ReadonlyMap<QuotaName, number>;
  readonly featureDenials: ReadonlyMap<Feature, number>;
}

/**
 * The usage counters sent with the token request, counted since the last send that succeeded.
 * A send takes a `snapshot`, and `acknowledge`s it only once the backend has answered: a failed
 * send changes nothing, so the counts keep accumulating into the next one; a successful one takes
 * off exactly what it carried, so what was counted while the request was in flight is sent next
 * time. Denials are kept as running totals against an acknowledged mark, which makes an
 * acknowledgement exact whatever the order, and a repeated one harmless.
 *
 * Peaks are per window: after a successful send the next window starts from the usage at the
 * moment of that snapshot, raised by everything observed since. When snapshots overlap (two sends
 * in flight), only the acknowledgement of the newest one starts a new window: a peak may then be
 * reported twice, never lost.
 */
export class UsageCounters implements UsageObserver {
  readonly #quotaDenials = new Map<QuotaName, number>();
  readonly #featureDenials = new Map<Feature, number>();
  #acknowledgedQuotaDenials = new Map<QuotaName, number>();
  #acknowledgedFeatureDenials = new Map<Feature, number>();
  /** The last usage observed of each quota. */
  readonly #level = new Map<QuotaName, number>();
  /** The peak of the current window: since the last acknowledged send. */
  #peak = new Map<QuotaName, number>();
  /** The peak since the newest snapshot, which becomes the window's when that snapshot is acknowledged. */
  #peakSinceSnapshot = new Map<QuotaName, number>();
  #sequence = 0;
  readonly #marks = new WeakMap<UsageCounts, Marks>();

  quotaDenied(quota: QuotaName): void {
    this.#quotaDenials.set(quota, (this.#quotaDenials.get(quota) ?? 0) + 1);
  }

  featureDenied(feature: Feature): void {
    this.#featureDenials.set(feature, (this.#featureDenials.get(feature) ?? 0) + 1);
  }

  /** Records the usage of `quota` now; anything but a non-negative whole number is ignored. */
  observeUsage(quota: QuotaName, current: number): void {
    if (!Number.isSafeInteger(current) || current < 0) return;
    this.#level.set(quota, current);
    raise(this.#peak, quota, current);
    raise(this.#peakSinceSnapshot, quota, current);
  }

  /** The counts since the last acknowledged send, frozen; hand it back to `acknowledge` once delivered. */
  snapshot(): UsageCounts {
    this.#sequence += 1;
    this.#peakSinceSnapshot = new Map(this.#level);
    const counts: UsageCounts = Object.freeze({
      quotaDenials: Object.freeze(unacknowledged(this.#quotaDenials, this.#acknowledgedQuotaDenials)),
      featureDenials: Object.freeze(unacknowledged(this.#featureDenials, this.#acknowledgedFeatureDenials)),
      peakUsage: Object.freeze(Object.fromEntries(this.#peak)),
    });
    this.#marks.set(counts, {
      sequence: this.#sequence,
      quotaDenials: new Map(this.#quotaDenials),
      featureDenials: new Map(this.#featureDenials),
    });
    return counts;
  }

  /** The backend received `snapshot`: what it carried is no longer counted. A snapshot not taken here is ignored. */
  acknowledge(snapshot: UsageCounts): void {
    const marks = this.#marks.get(snapshot);
    if (marks === undefined) return;
    this.#acknowledgedQuotaDenials = highest(this.#acknowledgedQuotaDenials, marks.quotaDenials);
    this.#acknowledgedFeatureDenials = highest(this.#acknowledgedFeatureDenials, marks.featureDenials);
    if (marks.sequence === this.#sequence) this.#peak = new Map(this.#peakSinceSnapshot);
  }
}

function raise<K>(peaks: Map<K, number>, key: K, value: number): void {
  if (value > (peaks.get(key) ?? -1)) peaks.set(key, value);
}

function unacknowledged<K extends string>(totals: ReadonlyMap<K, number>, acknowledged: ReadonlyMap<K, number>): Partial<Record<K, number>> {
  const counts: Partial<Record<K, number>> = {};
  for (const [key, total] of totals) {
    const count = total - (acknowledged.get(key) ?? 0);
    if (count > 0) counts[key] = count;
  }
  return counts;
}

function highest<K>(a: ReadonlyMap<K, number>, b: ReadonlyMap<K, number>): Map<K, number> {
  const merged = new Map(a);
  for (const [key, value] of b) merged.set(key, Math.max(value, merged.get(key) ?? 0));
  return merged;
}
