import type { Feature } from '../model/feature.js';
import type { License } from '../model/license.js';
import { withinQuota, type QuotaName } from '../model/quota.js';
import { tierName, type Tier } from '../model/tier.js';
import { fitsCapacity } from './usage-quota.js';

export interface QuotaDenial {
  readonly kind: 'quota';
  readonly tier: Tier;
  readonly quota: QuotaName;
  readonly limit: number;
  readonly requested: number;
  /** Usage quotas only (`requireCapacity`): the units already in use, which `requested` would add to. */
  readonly current?: number;
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

/** Null when `requested` more units fit next to the `current` usage of `quota` under the license's limit. */
export function checkCapacity(license: License, quota: QuotaName, current: number, requested: number): QuotaDenial | null {
  const limit = license.quotas[quota];
  if (fitsCapacity(limit, current, requested)) return null;
  return { kind: 'quota', tier: license.tier, quota, limit: limit ?? 0, requested, current };
}

/** Null when the license grants `feature`. */
export function checkFeature(license: License, feature: Feature): FeatureDenial | null {
  return license.features.includes(feature) ? null : { kind: 'feature', tier: license.tier, feature };
}

export function describeDenial(denial: Denial): string {
  const tier = tierName(denial.tier);
  if (denial.kind === 'feature') return `${denial.feature} is not available on the ${tier} tier`;
  if (denial.current !== undefined) {
    return `${denial.quota} is limited to ${denial.limit} on the ${tier} tier; ${denial.current} in use, ${denial.requested} more requested`;
  }
  return `${denial.quota} is limited to ${denial.limit} on the ${tier} tier; ${denial.requested} requested`;
}

/** The name a denial is about: the quota or the feature (`X-License-Shadow-Denied`, telemetry). */
export function deniedName(denial: Denial): string {
  return denial.kind === 'quota' ? denial.quota : denial.feature;
}
