import { describe, expect, it } from '@jest/globals';
import { checkCapacity, checkFeature, checkQuota, deniedName, describeDenial } from '../../../src/domain/enforcement/enforcement.js';
import { UsageCounter } from '../../../src/domain/enforcement/usage-quota.js';
import { COMMUNITY_LICENSE, type License } from '../../../src/domain/model/license.js';
import { TIER_DEFAULT_QUOTAS } from '../../../src/domain/model/quota.js';

const enterprise: License = { ...COMMUNITY_LICENSE, tier: 'enterprise', quotas: TIER_DEFAULT_QUOTAS.enterprise, features: ['repl'] };

describe('enforcement rules', () => {
  it('allow up to the quota and deny above it with the numbers', () => {
    expect(checkQuota(COMMUNITY_LICENSE, 'max_result_rows', 10_000)).toBeNull();
    const denial = checkQuota(COMMUNITY_LICENSE, 'max_result_rows', 10_001);
    expect(denial).toEqual({ kind: 'quota', tier: 'community', quota: 'max_result_rows', limit: 10_000, requested: 10_001 });
    expect(describeDenial(denial!)).toBe('max_result_rows is limited to 10000 on the Community tier; 10001 requested');
  });

  it('never deny an unlimited quota', () => {
    expect(checkQuota(enterprise, 'max_joins', Number.MAX_SAFE_INTEGER)).toBeNull();
  });

  it('deny a feature the license does not grant', () => {
    expect(checkFeature(enterprise, 'repl')).toBeNull();
    const denial = checkFeature(enterprise, 'federation');
    expect(denial).toEqual({ kind: 'feature', tier: 'enterprise', feature: 'federation' });
    expect(describeDenial(denial!)).toBe('federation is not available on the Enterprise tier');
  });
});

describe('checkCapacity', () => {
  it('allows usage + requested up to the limit and denies above it, with the usage in the denial', () => {
    expect(checkCapacity(COMMUNITY_LICENSE, 'max_clusters', 0, 1)).toBeNull();
    const denial = checkCapacity(COMMUNITY_LICENSE, 'max_clusters', 1, 1);
    expect(denial).toEqual({ kind: 'quota', tier: 'community', quota: 'max_clusters', limit: 1, current: 1, requested: 1 });
    expect(describeDenial(denial!)).toBe('max_clusters is limited to 1 on the Community tier; 1 in use, 1 more requested');
  });

  it('denies any request once a downgrade left usage above the limit, even 0 more', () => {
    expect(checkCapacity(COMMUNITY_LICENSE, 'max_materialized_views', 3, 0)).toMatchObject({ current: 3, requested: 0, limit: 1 });
  });

  it('never denies an unlimited quota', () => {
    expect(checkCapacity(enterprise, 'max_clusters', Number.MAX_SAFE_INTEGER, 1)).toBeNull();
  });
});

describe('UsageCounter (max_concurrent_queries and the usage quotas)', () => {
  it('admits up to the limit, then refuses until a unit is released', () => {
    const counter = new UsageCounter('max_concurrent_queries');
    const releases = [1, 2, 3].map(() => counter.tryTake(1, 2));
    expect(releases.map((release) => release !== null)).toEqual([true, true, false]);
    releases[0]?.();
    expect(counter.tryTake(1, 2)).not.toBeNull();
    expect(counter.current).toBe(2);
  });

  it('applies a new, lower limit to the next acquisition at once', () => {
    const counter = new UsageCounter('max_concurrent_queries');
    counter.tryTake(1, 50);
    counter.tryTake(1, 50);
    expect(counter.tryTake(1, 1)).toBeNull();
    expect(counter.current).toBe(2); // what runs is not undone
  });

  it('releases each acquisition once: a second call of a release does not add a unit', () => {
    const counter = new UsageCounter('max_concurrent_queries');
    const release = counter.tryTake(1, 1)!;
    release();
    release();
    expect(counter.current).toBe(0);
    expect([counter.tryTake(1, 1) !== null, counter.tryTake(1, 1) !== null]).toEqual([true, false]);
  });

  it('never counts below zero when set() lowered the count under outstanding acquisitions', () => {
    const counter = new UsageCounter('max_materialized_views');
    const release = counter.take(5);
    counter.set(2);
    release();
    expect(counter.current).toBe(0);
  });

  it('admits anything when unlimited', () => {
    const counter = new UsageCounter('max_concurrent_queries');
    for (let i = 0; i < 1000; i += 1) expect(counter.tryTake(1, null)).not.toBeNull();
    expect(counter.current).toBe(1000);
  });

  it('keeps the peak since the last reset, which restarts from the usage now', () => {
    const counter = new UsageCounter('max_clusters');
    const releases = [counter.take(2), counter.take(3)];
    releases.forEach((release) => release());
    expect(counter.peak).toBe(5);
    counter.set(1);
    counter.resetPeak();
    expect(counter.peak).toBe(1);
    counter.take(1);
    expect(counter.peak).toBe(2);
  });
});

describe('deniedName', () => {
  it('is the quota of a quota denial and the feature of a feature denial', () => {
    expect(deniedName({ kind: 'quota', tier: 'community', quota: 'max_result_rows', limit: 1, requested: 2 })).toBe('max_result_rows');
    expect(deniedName({ kind: 'feature', tier: 'pro', feature: 'federation' })).toBe('federation');
  });
});
