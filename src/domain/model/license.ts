import { FEATURES, type Feature } from './feature.js';
import { effectiveQuotas, type QuotaOverrides, type Quotas } from './quota.js';
import type { Tier } from './tier.js';

/** Where the license in force came from, in resolution order. */
export type LicenseSource = 'static' | 'api_key' | 'cache' | 'community';

export const PLATFORMS = ['PRODUCTION', 'STAGING', 'INTEGRATION', 'DEVELOPMENT'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The claims of a verified license token, already parsed into domain types. */
export interface LicenseClaims {
  readonly licenseId: string;
  readonly tier: Tier;
  /** `null` when the token names no features: the tier's defaults apply. */
  readonly features: readonly Feature[] | null;
  readonly quotas: QuotaOverrides;
  readonly trial: boolean;
  readonly orgName: string | null;
  readonly platform: Platform | null;
  readonly instanceId: string | null;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly notBefore: Date | null;
  /**
   * The vendor's grace period for this license, in whole days (signed claim `grace_period_days`,
   * an integer 0–365); null when the token does not say (DESIGN §3, amended 2026-11-30).
   */
  readonly gracePeriodDays: number | null;
}

/** Identifies a token without revealing it. */
export interface TokenInfo {
  readonly kid: string;
  readonly jti: string | null;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** First 16 hex digits of the JWT's SHA-256. */
  readonly fingerprint: string;
}

/** A JWT whose signature, issuer, times and claims have all been checked. */
export interface VerifiedLicenseToken {
  readonly jwt: string;
  readonly claims: LicenseClaims;
  readonly info: TokenInfo;
  /** The effective grace period of this license (`effectiveGracePeriodMs`), in milliseconds. */
  readonly gracePeriodMs: number;
}

/** The license the agent enforces: one immutable value, replaced as a whole. */
export interface License {
  readonly tier: Tier;
  readonly source: LicenseSource;
  readonly licenseId: string | null;
  readonly orgName: string | null;
  readonly platform: Platform | null;
  readonly trial: boolean;
  readonly features: readonly Feature[];
  readonly quotas: Quotas;
  /** `null` for Community, which never expires. */
  readonly expiresAt: Date | null;
  /** The effective grace period after `expiresAt`, in milliseconds (0 for Community). */
  readonly gracePeriodMs: number;
  /**
   * The instants per-request code compares the clock with, as epoch milliseconds precomputed
   * once: expiry, the start of mid grace and the end of grace (`Infinity` for Community).
   */
  readonly expiresAtMs: number;
  readonly midGraceAtMs: number;
  readonly graceEndsAtMs: number;
  readonly token: TokenInfo | null;
}

function freeze(license: License): License {
  Object.freeze(license.features);
  Object.freeze(license.quotas);
  return Object.freeze(license);
}

/** The free tier: always available, never expires. */
export const COMMUNITY_LICENSE: License = freeze({
  tier: 'community',
  source: 'community',
  licenseId: null,
  orgName: null,
  platform: null,
  trial: false,
  features: [...FEATURES],
  quotas: effectiveQuotas('community', {}),
  expiresAt: null,
  gracePeriodMs: 0,
  expiresAtMs: Number.POSITIVE_INFINITY,
  midGraceAtMs: Number.POSITIVE_INFINITY,
  graceEndsAtMs: Number.POSITIVE_INFINITY,
  token: null,
});

export function licenseFromToken(token: VerifiedLicenseToken, source: Exclude<LicenseSource, 'community'>): License {
  const { claims, gracePeriodMs } = token;
  const expiresAtMs = claims.expiresAt.getTime();
  return freeze({
    tier: claims.tier,
    source,
    licenseId: claims.licenseId,
    orgName: claims.orgName,
    platform: claims.platform,
    trial: claims.trial,
    features: [...(claims.features ?? FEATURES)],
    quotas: effectiveQuotas(claims.tier, claims.quotas),
    expiresAt: claims.expiresAt,
    gracePeriodMs,
    expiresAtMs,
    midGraceAtMs: expiresAtMs + gracePeriodMs / 2,
    graceEndsAtMs: expiresAtMs + gracePeriodMs,
    token: token.info,
  });
}
