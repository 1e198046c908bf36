import { describe, expect, it } from '@jest/globals';
import { parseApiKey } from '../../../src/domain/model/api-key.js';
import { ApiKeyError } from '../../../src/domain/model/errors.js';
import { FEATURES, knownFeatures } from '../../../src/domain/model/feature.js';
import { assessExpiry, daysUntil } from '../../../src/domain/model/grace.js';
import { COMMUNITY_LICENSE, licenseFromToken } from '../../../src/domain/model/license.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { effectiveQuotas, isQuotaName, QUOTA_NAMES, TIER_DEFAULT_QUOTAS, withinQuota } from '../../../src/domain/model/quota.js';
import { compareTiers, parseTier, tierName } from '../../../src/domain/model/tier.js';
import { DAY, HOUR } from '../../support/fixed-clock.js';

describe('tiers', () => {
  it('parse case-insensitively and nothing else', () => {
    expect(parseTier('PRO')).toBe('pro');
    expect(parseTier('Enterprise')).toBe('enterprise');
    expect(parseTier('gold')).toBeUndefined();
    expect(parseTier(1)).toBeUndefined();
  });

  it('are ordered Community < Pro < Enterprise and named for operators', () => {
    expect(compareTiers('community', 'pro')).toBeLessThan(0);
    expect(compareTiers('enterprise', 'pro')).toBeGreaterThan(0);
    expect(compareTiers('pro', 'pro')).toBe(0);
    expect(['community', 'pro', 'enterprise'].map((t) => tierName(t as 'pro'))).toEqual(['Community', 'Pro', 'Enterprise']);
  });
});

describe('features', () => {
  it('keep known names in canonical order and ignore unknown ones', () => {
    expect(knownFeatures(['repl', 'time_travel', 'jdbc_driver', 42])).toEqual(['jdbc_driver', 'repl']);
  });

  it('Community has all six', () => {
    expect(COMMUNITY_LICENSE.features).toEqual([...FEATURES]);
    expect(FEATURES).toHaveLength(6);
  });
});

describe('quotas', () => {
  it('follow the tier defaults of the contract', () => {
    expect(TIER_DEFAULT_QUOTAS.community).toEqual({
      max_materialized_views: 1,
      max_result_rows: 10_000,
      max_clusters: 1,
      max_joins: 2,
      max_concurrent_queries: 4,
    });
    expect(TIER_DEFAULT_QUOTAS.pro).toEqual({
      max_materialized_views: 50,
      max_result_rows: 1_000_000,
      max_clusters: 5,
      max_joins: 5,
      max_concurrent_queries: 50,
    });
    expect(Object.values(TIER_DEFAULT_QUOTAS.enterprise).every((limit) => limit === null)).toBe(true);
  });

  it('take the tier default for a missing override and keep an explicit null as unlimited', () => {
    const quotas = effectiveQuotas('pro', { max_joins: 8, max_clusters: null });
    expect(quotas).toMatchObject({ max_joins: 8, max_clusters: null, max_result_rows: 1_000_000 });
  });

  it('are named by exactly the five names of the contract; anything else is no quota', () => {
    for (const name of QUOTA_NAMES) expect(isQuotaName(name)).toBe(true);
    expect(QUOTA_NAMES).toHaveLength(5);
    for (const other of ['max_rows', 'MAX_JOINS', '', 'constructor', 5, null, undefined, ['max_joins']]) expect(isQuotaName(other)).toBe(false);
  });

  it('allow up to the limit, and anything when unlimited', () => {
    expect(withinQuota(10, 10)).toBe(true);
    expect(withinQuota(10, 11)).toBe(false);
    expect(withinQuota(null, Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});

describe('API keys', () => {
  it.each(['sk-a', 'sk-live_0123456789abcdef', 'sk-"odd"', 'sk-!', 'sk-~'])('accept %s', (key) => {
    expect(parseApiKey(key)).toBe(key);
  });

  it.each(['', 'sk-', 'pk-live-1', 'SK-abc', 'sk-has space', 'sk-new\nline', 'sk-é', 'sk-\u007f', 'xsk-abc', 'my-sk-abc', 'sk-abc\n'])('reject %j with a message that does not quote it', (key) => {
    expect(() => parseApiKey(key)).toThrow(ApiKeyError);
    expect(() => parseApiKey(key)).toThrow(/^API key is malformed: expected "sk-" followed by printable characters without spaces$/);
  });
});

describe('grace', () => {
  const expiresAt = new Date('2026-06-01T00:00:00Z');
  const at = (offsetMs: number) => new Date(expiresAt.getTime() + offsetMs);
  const grace = 14 * DAY;

  it.each([
    [-DAY, 'valid'],
    [0, 'valid'],
    [1, 'early_grace'],
    [7 * DAY, 'early_grace'],
    [7 * DAY + 1, 'mid_grace'],
    [14 * DAY, 'mid_grace'],
    [14 * DAY + 1, 'expired'],
  ])('at exp%+d ms the status is %s', (offset, status) => {
    expect(assessExpiry(expiresAt, at(offset), grace).status).toBe(status);
  });

  it('counts whole days expired and left in grace', () => {
    expect(assessExpiry(expiresAt, at(3 * DAY + HOUR), grace)).toMatchObject({ daysExpired: 3, graceDaysRemaining: 11 });
    expect(assessExpiry(expiresAt, at(-DAY), grace)).toMatchObject({ daysExpired: null, graceDaysRemaining: null });
  });

  it('with no grace period, a token is expired right after exp', () => {
    expect(assessExpiry(expiresAt, at(1), 0).status).toBe('expired');
  });

  it('counts whole days until expiry, never negative', () => {
    expect(daysUntil(expiresAt, at(-(2 * DAY + HOUR)))).toBe(2);
    expect(daysUntil(expiresAt, at(DAY))).toBe(0);
  });
});

describe('licenses', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const info = { kid: 'k1', jti: 'j1', issuedAt: now, expiresAt: now, fingerprint: '0123456789abcdef' };
  const fromClaims = (overrides: Parameters<typeof aLicenseClaims>[1], gracePeriodMs = 14 * DAY) =>
    licenseFromToken({ jwt: 'x', gracePeriodMs, claims: aLicenseClaims(now, overrides), info }, 'api_key');

  it('take every field of the verified token and precompute expiry, mid grace and end of grace', () => {
    const expiresAt = new Date(now.getTime() + 30 * DAY);
    const license = fromClaims(
      { tier: 'pro', licenseId: 'lic-9', orgName: 'Acme', platform: 'STAGING', trial: true, features: ['repl'], quotas: { max_joins: 9 }, expiresAt },
      10 * DAY,
    );

    expect(license).toEqual({
      tier: 'pro',
      source: 'api_key',
      licenseId: 'lic-9',
      orgName: 'Acme',
      platform: 'STAGING',
      trial: true,
      features: ['repl'],
      quotas: { ...TIER_DEFAULT_QUOTAS.pro, max_joins: 9 },
      expiresAt,
      gracePeriodMs: 10 * DAY,
      expiresAtMs: expiresAt.getTime(),
      midGraceAtMs: expiresAt.getTime() + 5 * DAY,
      graceEndsAtMs: expiresAt.getTime() + 10 * DAY,
      token: info,
    });
  });

  it('grant every feature when the token names none', () => {
    expect(fromClaims({ features: null }).features).toEqual([...FEATURES]);
  });

  it('cannot be changed once made, nor through their feature list or quotas', () => {
    for (const license of [fromClaims({}), COMMUNITY_LICENSE]) {
      expect(Object.isFrozen(license)).toBe(true);
      expect(Object.isFrozen(license.features)).toBe(true);
      expect(Object.isFrozen(license.quotas)).toBe(true);
    }
  });

  it('Community never expires and has no grace, no token and no owner', () => {
    expect(COMMUNITY_LICENSE).toEqual({
      tier: 'community',
      source: 'community',
      licenseId: null,
      orgName: null,
      platform: null,
      trial: false,
      features: [...FEATURES],
      quotas: TIER_DEFAULT_QUOTAS.community,
      expiresAt: null,
      gracePeriodMs: 0,
      expiresAtMs: Number.POSITIVE_INFINITY,
      midGraceAtMs: Number.POSITIVE_INFINITY,
      graceEndsAtMs: Number.POSITIVE_INFINITY,
      token: null,
    });
  });
});
