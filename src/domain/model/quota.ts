import type { Tier } from './tier.js';

export const QUOTA_NAMES = [
  'max_materialized_views',
  'max_result_rows',
  'max_clusters',
  'max_joins',
  'max_concurrent_queries',
] as const;

export type QuotaName = (typeof QUOTA_NAMES)[number];

/** A quota limit; `null` means unlimited. */
export type QuotaLimit = number | null;

export type Quotas = Readonly<Record<QuotaName, QuotaLimit>>;

/** Quota overrides carried by a license; a missing name takes the tier default. */
export type QuotaOverrides = Readonly<Partial<Record<QuotaName, QuotaLimit>>>;

export const TIER_DEFAULT_QUOTAS: Readonly<Record<Tier, Quotas>> = {
  community: {
    max_materialized_views: 1,
    max_result_rows: 10_000,
    max_clusters: 1,
    max_joins: 2,
    max_concurrent_queries: 4,
  },
  pro: {
    max_materialized_views: 50,
    max_result_rows: 1_000_000,
    max_clusters: 5,
    max_joins: 5,
    max_concurrent_queries: 50,
  },
  enterprise: {
    max_materialized_views: null,
    max_result_rows: null,
    max_clusters: null,
    max_joins: null,
    max_concurrent_queries: null,
  },
};

export function isQuotaName(value: unknown): value is QuotaName {
  return typeof value === 'string' && (QUOTA_NAMES as readonly string[]).includes(value);
}

/** The tier's defaults with the license's overrides applied. */
export function effectiveQuotas(tier: Tier, overrides: QuotaOverrides): Quotas {
  return { ...TIER_DEFAULT_QUOTAS[tier], ...overrides };
}

/** Whether `requested` units fit within `limit`. */
export function withinQuota(limit: QuotaLimit, requested: number): boolean {
  return limit === null || requested <= limit;
}
