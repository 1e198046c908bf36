import { describe, expect, it } from '@jest/globals';
import { COMMUNITY_LICENSE, type License } from '../../../src/domain/model/license.js';
import type { LicenseSnapshot } from '../../../src/domain/model/license-state.js';
import { delayAfterTakeover, nextRefreshDelay, nominalRetryDelay, refreshSchedulePolicy } from '../../../src/domain/refresh/refresh-schedule.js';
import { DAY, HOUR, MINUTE, SECOND } from '../../support/fixed-clock.js';

const now = new Date('2026-06-01T00:00:00Z');
const policy = refreshSchedulePolicy(24 * HOUR);
const middle = () => 0.5; // no jitter
const expiringIn = (ms: number): LicenseSnapshot => {
  const license: License = { ...COMMUNITY_LICENSE, tier: 'pro', source: 'api_key', expiresAt: new Date(now.getTime() + ms) };
  return { license, degraded: false, resolution: [], installedAt: now };
};
const refreshed = (snapshot: LicenseSnapshot) => ({ status: 'refreshed' as const, permanent: false, retryAfterMs: null, snapshot });
const failed = (retryAfterMs: number | null = null) => ({ status: 'failed' as const, permanent: false, retryAfterMs, snapshot: expiringIn(30 * DAY) });

describe('nextRefreshDelay', () => {
  it('waits the interval when the token lives much longer', () => {
    expect(nextRefreshDelay(refreshed(expiringIn(365 * DAY)), 0, now, policy, middle)).toBe(24 * HOUR);
  });

  it('waits 80 % of the remaining lifetime when that is sooner than the interval', () => {
    expect(nextRefreshDelay(refreshed(expiringIn(10 * HOUR)), 0, now, policy, middle)).toBe(8 * HOUR);
  });

  it('waits the interval for a license that never expires', () => {
    expect(nextRefreshDelay(refreshed({ ...expiringIn(0), license: COMMUNITY_LICENSE }), 0, now, policy, middle)).toBe(24 * HOUR);
  });

  it('retries within the cap when the refreshed license is already in grace', () => {
    expect(nextRefreshDelay(refreshed(expiringIn(-HOUR)), 0, now, policy, middle)).toBe(5 * MINUTE);
  });

  it('keeps jitter within ±10 %', () => {
    const low = nextRefreshDelay(refreshed(expiringIn(365 * DAY)), 0, now, policy, () => 0);
    const high = nextRefreshDelay(refreshed(expiringIn(365 * DAY)), 0, now, policy, () => 0.999_999);
    expect(low / (24 * HOUR)).toBeCloseTo(0.9, 5);
    expect(high / (24 * HOUR)).toBeCloseTo(1.1, 5);
    for (let i = 0; i < 200; i += 1) {
      const delay = nextRefreshDelay(refreshed(expiringIn(10 * HOUR)), 0, now, policy, Math.random);
      expect(delay).toBeGreaterThanOrEqual(0.9 * 8 * HOUR);
      expect(delay).toBeLessThanOrEqual(1.1 * 8 * HOUR);
    }
  });

  it('plans a refresh that made no backend call (skipped) like a success, never as a failure to back off from', () => {
    const skipped = (snapshot: LicenseSnapshot) => ({ status: 'skipped' as const, permanent: false, retryAfterMs: null, snapshot });
    expect(nextRefreshDelay(skipped(expiringIn(365 * DAY)), 0, now, policy, middle)).toBe(24 * HOUR);
    expect(nextRefreshDelay(skipped(expiringIn(10 * HOUR)), 0, now, policy, middle)).toBe(8 * HOUR);
  });

  it('backs off exponentially from 1 s after failures, up to 5 minutes, while no license is in force', () => {
    const community = { ...failed(), snapshot: { ...expiringIn(0), license: COMMUNITY_LICENSE } };
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20].map((n) => nextRefreshDelay(community, n, now, policy, middle));
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map((s) => s * SECOND));
  });

  it('with a license in force: three quick retries for a blip, then the outage wait of 90 minutes', () => {
    const delays = [1, 2, 3, 4, 5, 20, 200].map((n) => nextRefreshDelay(failed(), n, now, policy, middle));
    expect(delays).toEqual([1 * SECOND, 2 * SECOND, 4 * SECOND, 90 * MINUTE, 90 * MINUTE, 90 * MINUTE, 90 * MINUTE]);
  });

  it('waits at most a quarter of the time left until the grace of the license in force ends (never under 5 minutes)', () => {
    const endingIn = (ms: number) => ({ ...failed(), snapshot: { ...expiringIn(0), license: { ...expiringIn(0).license, graceEndsAtMs: now.getTime() + ms } } });
    expect(nextRefreshDelay(endingIn(2 * HOUR), 5, now, policy, middle)).toBe(30 * MINUTE);
    expect(nextRefreshDelay(endingIn(10 * MINUTE), 5, now, policy, middle)).toBe(5 * MINUTE);
  });

  it('spreads retries with wide jitter (half to one and a half times the nominal wait, the nominal on average), never under half a second', () => {
    expect(nextRefreshDelay(failed(), 5, now, policy, () => 0)).toBe(45 * MINUTE);
    expect(nextRefreshDelay(failed(), 5, now, policy, () => 0.999_999)).toBeCloseTo(135 * MINUTE, -3);
    expect(nominalRetryDelay(5, failed().snapshot, now, policy)).toBe(90 * MINUTE);
    let sum = 0;
    for (let i = 0; i < 2_000; i += 1) {
      const delay = nextRefreshDelay(failed(), 5, now, policy, Math.random);
      expect(delay).toBeGreaterThanOrEqual(45 * MINUTE);
      expect(delay).toBeLessThan(135 * MINUTE);
      sum += delay;
    }
    expect(sum / 2_000 / (90 * MINUTE)).toBeCloseTo(1, 1);
    expect(nextRefreshDelay(failed(), 1, now, policy, () => 0)).toBe(500);
  });

  it('does not back off after a failure no retry can fix (a malformed or rejected API key): it waits the interval', () => {
    const community = { ...failed(), permanent: true, snapshot: { ...expiringIn(0), license: COMMUNITY_LICENSE } };
    expect([1, 2, 3, 10].map((n) => nextRefreshDelay(community, n, now, policy, middle))).toEqual([24 * HOUR, 24 * HOUR, 24 * HOUR, 24 * HOUR]);
  });

  it('never backs off past the interval', () => {
    const short = refreshSchedulePolicy(3 * SECOND);
    expect(nextRefreshDelay(failed(), 10, now, short, () => 0.999)).toBe(3 * SECOND);
  });

  it('honours Retry-After as a minimum, capped at 5 minutes', () => {
    expect(nextRefreshDelay(failed(30 * SECOND), 1, now, policy, middle)).toBe(30 * SECOND);
    expect(nextRefreshDelay(failed(500), 3, now, policy, middle)).toBe(4 * SECOND);
    expect(nextRefreshDelay(failed(2 * HOUR), 1, now, policy, middle)).toBe(5 * MINUTE);
  });
});

describe('delayAfterTakeover', () => {
  const issuedAgo = (ms: number, lifetimeMs = 365 * DAY): LicenseSnapshot => {
    const snapshot = expiringIn(lifetimeMs - ms);
    const token = { kid: 'k', jti: null, issuedAt: new Date(now.getTime() - ms), expiresAt: snapshot.license.expiresAt!, fingerprint: '0'.repeat(16) };
    return { ...snapshot, license: { ...snapshot.license, token } };
  };

  it('goes on with the schedule of the license in force: refreshed at its iat, next one an interval later', () => {
    expect(delayAfterTakeover(issuedAgo(20 * HOUR), now, policy, middle)).toBe(4 * HOUR);
    expect(delayAfterTakeover(issuedAgo(5 * HOUR, 10 * HOUR), now, policy, middle)).toBe(3 * HOUR); // 80 % of 10 h, 5 h gone
  });

  it('refreshes soon when that moment has passed, or when no token is in force', () => {
    expect(delayAfterTakeover(issuedAgo(30 * HOUR), now, policy, middle)).toBe(SECOND);
    expect(delayAfterTakeover({ ...expiringIn(0), license: COMMUNITY_LICENSE }, now, policy, middle)).toBe(SECOND);
  });
});

describe('nextRefreshDelay at the instant of expiry', () => {
  it('a license that expires right now is already past its lifetime: it retries within the cap, not at once', () => {
    expect(nextRefreshDelay(refreshed(expiringIn(0)), 0, now, policy, middle)).toBe(5 * MINUTE);
  });
});
