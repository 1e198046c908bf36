import { LicenseTokenError } from './errors.js';
import { assessExpiry, describeExpiredPastGrace, effectiveGracePeriodMs } from './grace.js';
import type { LicenseClaims } from './license.js';

/** Tolerated clock difference for `nbf` and `iat` (not for `exp`, which has the grace period). */
export const CLOCK_TOLERANCE_MS = 60_000;

export interface ValidityContext {
  readonly now: Date;
  /** The operator's grace setting; the license's own bound applies too (`effectiveGracePeriodMs`). */
  readonly gracePeriodMs: number;
  /** This installation's id: a token bound to another instance is refused. */
  readonly instanceId: string;
}

/**
 * The time and binding rules every license token must pass once its signature is verified:
 * not before `nbf`, not issued in the future, bound to this instance if bound at all, and not
 * past the end of the grace period that follows `exp`. Returns the effective grace period (ms).
 */
export function assertLicenseUsable(claims: LicenseClaims, { now, gracePeriodMs: operatorGracePeriodMs, instanceId }: ValidityContext): number {
  const gracePeriodMs = effectiveGracePeriodMs(claims, operatorGracePeriodMs);
  const latestAcceptable = now.getTime() + CLOCK_TOLERANCE_MS;
  if (claims.issuedAt.getTime() > claims.expiresAt.getTime()) {
    throw new LicenseTokenError('LICENSE.MALFORMED', 'license token is issued ("iat") after it expires ("exp")');
  }
  if (claims.notBefore !== null && claims.notBefore.getTime() > latestAcceptable) {
    throw new LicenseTokenError('LICENSE.NOT_YET_VALID', `license token is not valid before ${claims.notBefore.toISOString()}`);
  }
  if (claims.issuedAt.getTime() > latestAcceptable) {
    throw new LicenseTokenError('LICENSE.NOT_YET_VALID', `license token is issued in the future (${claims.issuedAt.toISOString()})`);
  }
  if (claims.instanceId !== null && claims.instanceId !== instanceId) {
    throw new LicenseTokenError('LICENSE.INSTANCE_MISMATCH', 'license token is bound to another instance');
  }
  const expiry = assessExpiry(claims.expiresAt, now, gracePeriodMs);
  if (expiry.status === 'expired') {
    throw new LicenseTokenError(
      'LICENSE.EXPIRED',
      describeExpiredPastGrace(claims.expiresAt, expiry),
    );
  }
  return gracePeriodMs;
}
