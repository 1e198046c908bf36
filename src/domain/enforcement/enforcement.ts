import type { Feature } from '../model/feature.js';
import type { License } from '../model/license.js';
import { withinQuota, type QuotaName } from '../model/quota.js';
import { tierName, type Tier } from '../model/tier.js';

export interface QuotaDenial {
  readonly kind: 'quota';
  readonly tier: Tier;
  readonly quota: QuotaName;
  readonly limit: number;
  readonly requested: number;
}

export interface FeatureDenial {
  readonly kind: 'feature';
  readonly tier: Tier;
  readonly feature: Feature;
}

export type Denial = QuotaDenial | FeatureDenial;

/** Null when `requested` units fit the license's quota. */
export function checkQuota(license: License, quota: QuotaName, requested: number): QuotaDenial | null {
  const limit = license.quotas[quota];
  if (limit === null || withinQuota(limit, requested)) return null;
  return { kind: 'quota', tier: license.tier, quota, limit, requested };
}

/** Null when the license grants `feature`. */
export function checkFeature(license: License, feature: Feature): FeatureDenial | null {
  return license.features.includes(feature) ? null : { kind: 'feature', tier: license.tier, feature };
}

export function describeDenial(denial: Denial): string {
  const tier = tierName(denial.tier);
  if (denial.kind === 'feature') return `${denial.feature} is not available on the ${tier} tier`;
  return `${denial.quota} is limited to ${denial.limit} on the ${tier} tier; ${denial.requested} requested`;
}

/**
 * Counts the queries running in this process against `max_concurrent_queries`. The limit is
 * read per call, so a new license applies to the next query at once.
 */
export class ConcurrencyGate {
  #active = 0;

  get active(): number {
    return this.#active;
  }

  /** Takes a slot when one is free under `limit` (null = unlimited); false when full. */
  tryEnter(limit: number | null): boolean {
    if (limit !== null && this.#active >= limit) return false;
    this.#active += 1;
    return true;
  }

  leave(): void {
    this.#active = Math.max(0, this.#active - 1);
  }
}
