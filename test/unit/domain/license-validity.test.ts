import { describe, expect, it } from '@jest/globals';
import { LicenseTokenError, type LicenseTokenErrorCode } from '../../../src/domain/model/errors.js';
import type { LicenseClaims } from '../../../src/domain/model/license.js';
import { assertLicenseUsable, CLOCK_TOLERANCE_MS } from '../../../src/domain/model/license-validity.js';
import { DAY, FixedClock, SECOND } from '../../support/fixed-clock.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';

const NOW = new FixedClock().now();
const INSTANCE_ID = 'instance-0001';
const OPERATOR_GRACE = 30 * DAY;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

const claims = (overrides: Partial<LicenseClaims> = {}) => aLicenseClaims(NOW, overrides);
const usable = (c: LicenseClaims, gracePeriodMs = OPERATOR_GRACE) => assertLicenseUsable(c, { now: NOW, gracePeriodMs, instanceId: INSTANCE_ID });

function rejection(c: LicenseClaims, gracePeriodMs = OPERATOR_GRACE): LicenseTokenError {
  try {
    usable(c, gracePeriodMs);
  } catch (error) {
    if (error instanceof LicenseTokenError) return error;
    throw error;
  }
  throw new Error('expected the claims to be refused');
}

const expectRefused = (c: LicenseClaims, code: LicenseTokenErrorCode, message?: string) => {
  const error = rejection(c);
  expect(error.code).toBe(code);
  if (message !== undefined) expect(error.message).toBe(message);
};

describe('assertLicenseUsable', () => {
  it('tolerates a clock difference of 60 s for nbf and iat', () => {
    expect(CLOCK_TOLERANCE_MS).toBe(60 * SECOND);
  });

  describe('iat, the issue time', () => {
    it('accepts a token issued exactly 60 s ahead of the clock', () => {
      expect(() => usable(claims({ issuedAt: at(60 * SECOND) }))).not.toThrow();
    });

    it('refuses a token issued 60 s and 1 ms ahead as not yet valid, naming the time', () => {
      const issuedAt = at(60 * SECOND + 1);
      expectRefused(claims({ issuedAt }), 'LICENSE.NOT_YET_VALID', `license token is issued in the future (${issuedAt.toISOString()})`);
    });

    it('refuses a token issued after it expires as malformed, and accepts iat equal to exp', () => {
      expectRefused(
        claims({ issuedAt: at(-DAY), expiresAt: at(-DAY - 1) }),
        'LICENSE.MALFORMED',
        'license token is issued ("iat") after it expires ("exp")',
      );
      expect(() => usable(claims({ issuedAt: at(-SECOND), expiresAt: at(-SECOND) }))).not.toThrow();
    });
  });

  describe('nbf, not before', () => {
    it('accepts nbf exactly 60 s ahead of the clock, and none at all', () => {
      expect(() => usable(claims({ notBefore: at(60 * SECOND) }))).not.toThrow();
      expect(() => usable(claims({ notBefore: null }))).not.toThrow();
    });

    it('refuses nbf 60 s and 1 ms ahead as not yet valid, naming the time', () => {
      const notBefore = at(60 * SECOND + 1);
      expectRefused(claims({ notBefore }), 'LICENSE.NOT_YET_VALID', `license token is not valid before ${notBefore.toISOString()}`);
    });
  });

  describe('the instance binding', () => {
    it('accepts an unbound token and one bound to this instance', () => {
      expect(() => usable(claims({ instanceId: null }))).not.toThrow();
      expect(() => usable(claims({ instanceId: INSTANCE_ID }))).not.toThrow();
    });

    it('refuses a token bound to another instance', () => {
      expectRefused(claims({ instanceId: 'instance-0002' }), 'LICENSE.INSTANCE_MISMATCH', 'license token is bound to another instance');
    });
  });

  describe('expiry and the effective grace period', () => {
    const expired = (forMs: number, overrides: Partial<LicenseClaims> = {}) =>
      claims({ issuedAt: at(-forMs - 30 * DAY), expiresAt: at(-forMs), ...overrides });

    it('gives 14 days of grace to a license that does not say, when the operator allows more', () => {
      expect(usable(expired(0))).toBe(14 * DAY);
      expect(() => usable(expired(14 * DAY))).not.toThrow();
      expectRefused(expired(14 * DAY + 1), 'LICENSE.EXPIRED');
    });

    it('gives no grace to a trial license that does not say', () => {
      expect(usable(expired(0, { trial: true }))).toBe(0);
      expectRefused(expired(1, { trial: true }), 'LICENSE.EXPIRED');
    });

    it('takes the vendor\'s grace_period_days, trial or not, up to the operator\'s setting', () => {
      expect(usable(expired(0, { gracePeriodDays: 3 }))).toBe(3 * DAY);
      expect(usable(expired(0, { gracePeriodDays: 3, trial: true }))).toBe(3 * DAY);
      expect(usable(expired(0, { gracePeriodDays: 365 }))).toBe(OPERATOR_GRACE);
      expect(usable(expired(0, { gracePeriodDays: 365 }), 2 * DAY)).toBe(2 * DAY);
    });

    it('refuses a license past its grace as expired, naming expiry and the end of grace', () => {
      const c = expired(3 * DAY + 1, { gracePeriodDays: 3 });
      expectRefused(
        c,
        'LICENSE.EXPIRED',
        `license token expired on ${c.expiresAt.toISOString()} and its grace period ended on ${new Date(c.expiresAt.getTime() + 3 * DAY).toISOString()}`,
      );
    });
  });
});
