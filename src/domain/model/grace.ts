import type { LicenseClaims } from './license.js';

const DAY_MS = 86_400_000;

/** The grace a license without `grace_period_days` gets (the original product's 14 days). */
export const DEFAULT_VENDOR_GRACE_DAYS = 14;

/**
 * The grace period that follows this license's expiry: the smaller of the operator's setting and
 * the vendor's — the signed `grace_period_days`, else 14 days, else 0 for a trial license without
 * the claim. The operator can shorten grace, never extend it (DESIGN §3, amended 2026-11-30).
 */
export function effectiveGracePeriodMs(claims: Pick<LicenseClaims, 'gracePeriodDays' | 'trial'>, operatorGracePeriodMs: number): number {
  const vendorDays = claims.gracePeriodDays ?? (claims.trial ? 0 : DEFAULT_VENDOR_GRACE_DAYS);
  return Math.min(operatorGracePeriodMs, vendorDays * DAY_MS);
}

/** Where a license stands relative to its expiry and grace period. */
export type ExpiryStatus = 'valid' | 'early_grace' | 'mid_grace' | 'expired';

export interface ExpiryAssessment {
  readonly status: ExpiryStatus;
  /** Whole days since expiry; null while not expired. */
  readonly daysExpired: number | null;
  /** Whole days left before the grace period ends; null while not expired. */
  readonly graceDaysRemaining: number | null;
  /** When the grace period ends. */
  readonly graceEndsAt: Date;
}

/**
 * A token past `exp` is still honoured for `gracePeriodMs`: the first half is "early grace",
 * the second half "mid grace"; past the end it is expired.
 */
export function assessExpiry(expiresAt: Date, now: Date, gracePeriodMs: number): ExpiryAssessment {
  const expiredForMs = now.getTime() - expiresAt.getTime();
  const graceEndsAt = new Date(expiresAt.getTime() + gracePeriodMs);
  if (expiredForMs <= 0) {
    return { status: 'valid', daysExpired: null, graceDaysRemaining: null, graceEndsAt };
  }
  const status: ExpiryStatus =
    expiredForMs > gracePeriodMs ? 'expired' : expiredForMs > gracePeriodMs / 2 ? 'mid_grace' : 'early_grace';
  return {
    status,
    daysExpired: Math.floor(expiredForMs / DAY_MS),
    graceDaysRemaining: Math.max(0, Math.ceil((gracePeriodMs - expiredForMs) / DAY_MS)),
    graceEndsAt,
  };
}

/** Why a license past its grace period is refused, in the words of every log line and status. */
export function describeExpiredPastGrace(expiresAt: Date, { graceEndsAt }: ExpiryAssessment): string {
  return `license token expired on ${expiresAt.toISOString()} and its grace period ended on ${graceEndsAt.toISOString()}`;
}

/** Whole days until `expiresAt`, never negative. */
export function daysUntil(expiresAt: Date, now: Date): number {
  return Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / DAY_MS));
}
