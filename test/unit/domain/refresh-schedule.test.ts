import { describe, expect, it } from '@jest/globals';
import { COMMUNITY_LICENSE, type License } from '../../../src/domain/model/license.js';
import type { LicenseSnapshot } from '../../../src/domain/model/license-state.js';
import { nextRefreshDelay, refreshSchedulePolicy } from '../../../src/domain/refresh/refresh-schedule.js';
import { DAY, HOUR, MINUTE, SECOND } from '../../support/fixed-clock.js';

const now = new Date('2026-06-01T00:00:00Z');
const policy = refreshSchedulePolicy(24 * HOUR);
const middle = () => 0.5; // no jitter
const expiringIn = (ms: number): LicenseSnapshot => {
  const license: License = { ...COMMUNITY_LICENSE, tier: 'pro', source: 'api_key', expiresAt: new Date(now.getTime() + ms) };
  return { license, degraded: false, resolution: [], installedAt: now };
};
const refreshed = (snapshot: LicenseSnapshot) => ({ status: 'refreshed' as const, retryAfterMs: null, snapshot });
const failed = (retryAfterMs: number | null = null) => ({ status: 'failed' as const, retryAfterMs, snapshot: expiringIn(30 * DAY) });

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
    const skipped = (snapshot: LicenseSnapshot) => ({ status: 'skipped' as const, retryAfterMs: null, snapshot });
    expect(nextRefreshDelay(skipped(expiringIn(365 * DAY)), 0, now, policy, middle)).toBe(24 * HOUR);
    expect(nextRefreshDelay(skipped(expiringIn(10 * HOUR)), 0, now, policy, middle)).toBe(8 * HOUR);
  });

  it('backs off exponentially from 1 s after failures, up to 5 minutes', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20].map((n) => nextRefreshDelay(failed(), n, now, policy, middle));
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map((s) => s * SECOND));
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
