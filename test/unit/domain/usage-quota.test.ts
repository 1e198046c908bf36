import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ENFORCEMENT_MODES, UsageCounter, UsageQuota, UsageQuotas, type EnforcementMode, type OverLimitListener } from '../../../src/domain/enforcement/usage-quota.js';
import { QuotaExceededError } from '../../../src/domain/model/errors.js';
import { TIER_DEFAULT_QUOTAS, type Quotas } from '../../../src/domain/model/quota.js';
import type { UsageObserver } from '../../../src/domain/telemetry/usage-counters.js';

/** A registry whose limits the test swaps as a refresh would, and a usage quota over it. */
function setUp(mode: EnforcementMode = 'enforce', observer: UsageObserver | null = null) {
  let quotas: Quotas = TIER_DEFAULT_QUOTAS.community;
  const registry = new UsageQuotas(() => quotas, observer);
  const events: Parameters<OverLimitListener>[0][] = [];
  const usage = (quota: keyof Quotas) => new UsageQuota(registry.counter(quota), () => registry.limit(quota), mode, (event) => events.push(event));
  return { registry, events, usage, install: (next: Quotas) => (quotas = next) };
}

describe('UsageQuota', () => {
  it('acquires up to the limit, refuses one more with QUOTA.EXCEEDED and the numbers, and releases', () => {
    const { usage, events } = setUp();
    const views = usage('max_materialized_views'); // Community: 1
    const release = views.acquire();
    expect(views.current()).toBe(1);
    let refusal: unknown;
    try {
      views.acquire();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(QuotaExceededError);
    expect(refusal).toMatchObject({ code: 'QUOTA.EXCEEDED', quota: 'max_materialized_views', current: 1, requested: 1, limit: 1 });
    expect((refusal as Error).message).toBe('max_materialized_views is limited to 1; 1 in use, 1 more requested');
    expect(events).toEqual([{ quota: 'max_materialized_views', current: 1, requested: 1, limit: 1, mode: 'enforce' }]);
    expect(views.current()).toBe(1); // a refusal takes nothing
    release();
    release(); // idempotent
    expect(views.current()).toBe(0);
    expect(() => views.acquire()).not.toThrow();
  });

  it('acquires k units at once: usage + k must fit', () => {
    const { usage } = setUp();
    const clusters = usage('max_clusters');
    expect(() => clusters.acquire(2)).toThrow(QuotaExceededError); // limit 1
    expect(clusters.acquire(0)).toEqual(expect.any(Function));
    expect(clusters.acquire(1)).toEqual(expect.any(Function));
    expect(clusters.current()).toBe(1);
  });

  it('applies a new license at once: an upgrade makes room, a downgrade keeps what exists and refuses more', () => {
    const { usage, install, registry } = setUp();
    const views = usage('max_materialized_views');
    install(TIER_DEFAULT_QUOTAS.pro);
    const releases = [views.acquire(), views.acquire(), views.acquire()];
    expect(views.current()).toBe(3);
    install(TIER_DEFAULT_QUOTAS.community); // downgrade: limit 1
    expect(views.current()).toBe(3); // never undone
    expect(views.overage()).toBe(2);
    expect(registry.report().max_materialized_views).toEqual({ current: 3, limit: 1, overage: 2 });
    expect(() => views.acquire()).toThrow(QuotaExceededError);
    releases.forEach((release) => release());
    expect(views.overage()).toBe(0);
    expect(() => views.acquire()).not.toThrow();
  });

  it('set() states what exists and is never refused, even above the limit', () => {
    const { usage } = setUp();
    const views = usage('max_materialized_views');
    views.set(4);
    expect(views.current()).toBe(4);
    expect(views.overage()).toBe(3);
    views.set(0);
    expect(views.overage()).toBe(0);
  });

  it('treats an unlimited quota as never exceeded', () => {
    const { usage, install } = setUp();
    install(TIER_DEFAULT_QUOTAS.enterprise);
    const views = usage('max_materialized_views');
    views.acquire(1_000_000);
    expect(views.limit()).toBeNull();
    expect(views.overage()).toBe(0);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number])('refuses %p as an amount with a TypeError', (amount) => {
    const { usage } = setUp();
    expect(() => usage('max_clusters').acquire(amount)).toThrow(TypeError);
    expect(() => usage('max_clusters').set(amount)).toThrow(TypeError);
  });

  it('in shadow mode takes the units anyway and reports the overrun instead of throwing', () => {
    const { usage, events } = setUp('shadow');
    const views = usage('max_materialized_views');
    views.acquire();
    const release = views.acquire();
    expect(views.current()).toBe(2);
    expect(views.overage()).toBe(1);
    expect(events).toEqual([{ quota: 'max_materialized_views', current: 1, requested: 1, limit: 1, mode: 'shadow' }]);
    release();
    expect(views.current()).toBe(1);
  });

  it('keeps the peak since the last reset, and tells an observer every change of the count', () => {
    const observed: string[] = [];
    const { usage, install } = setUp('enforce', { observeUsage: (quota, current) => observed.push(`${quota}=${current}`) });
    install(TIER_DEFAULT_QUOTAS.pro);
    const clusters = usage('max_clusters');
    const releases = [clusters.acquire(), clusters.acquire(2)];
    releases.forEach((release) => release());
    releases[0]!(); // idempotent: no change, nothing observed
    clusters.acquire();
    expect(clusters.peak()).toBe(3);
    clusters.resetPeak();
    expect(clusters.peak()).toBe(1);
    usage('max_materialized_views').set(4);
    expect(observed).toEqual(['max_clusters=1', 'max_clusters=3', 'max_clusters=2', 'max_clusters=0', 'max_clusters=1', 'max_materialized_views=4']);
  });
});

describe('UsageQuotas', () => {
  it('refuses an unknown quota name with a TypeError naming the valid ones', () => {
    const { registry } = setUp();
    expect(() => registry.counter('max_rows' as never)).toThrow(
      new TypeError('usage: unknown quota "max_rows"; expected one of max_materialized_views, max_result_rows, max_clusters, max_joins, max_concurrent_queries'),
    );
    expect(() => registry.counter('constructor' as never)).toThrow(TypeError);
  });

  it('reports every quota with its usage, limit and overage', () => {
    const { registry } = setUp();
    expect(registry.report()).toEqual({
      max_materialized_views: { current: 0, limit: 1, overage: 0 },
      max_result_rows: { current: 0, limit: 10_000, overage: 0 },
      max_clusters: { current: 0, limit: 1, overage: 0 },
      max_joins: { current: 0, limit: 2, overage: 0 },
      max_concurrent_queries: { current: 0, limit: 4, overage: 0 },
    });
  });
});

describe('acquire and release under any interleaving (property)', () => {
  type Step = { op: 'acquire'; amount: number } | { op: 'release'; index: number } | { op: 'limit'; limit: number | null };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ op: fc.constant('acquire' as const), amount: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ op: fc.constant('release' as const), index: fc.nat(40) }),
    fc.record({ op: fc.constant('limit' as const), limit: fc.option(fc.integer({ min: 0, max: 8 }), { nil: null }) }),
  );

  it('never lets an acquisition take usage above the limit in force, and usage always equals what is held', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), fc.array(step, { maxLength: 60 }), (initialLimit, steps) => {
        let limit: number | null = initialLimit;
        const registry = new UsageQuotas(() => ({ ...TIER_DEFAULT_QUOTAS.community, max_clusters: limit }));
        const clusters = new UsageQuota(registry.counter('max_clusters'), () => registry.limit('max_clusters'), 'enforce', () => undefined);
        const held: { amount: number; release: () => void; released: boolean }[] = [];
        let peak = 0;
        for (const s of steps) {
          if (s.op === 'limit') limit = s.limit;
          else if (s.op === 'release') {
            const hold = held[s.index % Math.max(1, held.length)];
            if (hold !== undefined) {
              hold.release(); // may be a second call: idempotent
              hold.released = true;
            }
          } else {
            const before = clusters.current();
            try {
              held.push({ amount: s.amount, release: clusters.acquire(s.amount), released: false });
              expect(limit === null || before + s.amount <= limit).toBe(true);
            } catch (error) {
              expect(error).toBeInstanceOf(QuotaExceededError);
              expect(limit !== null && before + s.amount > limit).toBe(true);
              expect(clusters.current()).toBe(before);
            }
          }
          const holding = held.filter((hold) => !hold.released).reduce((sum, hold) => sum + hold.amount, 0);
          expect(clusters.current()).toBe(holding);
          peak = Math.max(peak, holding);
        }
        expect(clusters.peak()).toBe(peak);
      }),
    );
  });
});

describe('UsageCounter.set and the argument checks', () => {
  it('set() raises the peak to a higher count and never lowers it', () => {
    const counter = new UsageCounter('max_materialized_views');
    counter.set(5);
    expect(counter.peak).toBe(5);
    counter.set(2);
    expect([counter.current, counter.peak]).toEqual([2, 5]);
  });

  it('names the quota, the method and the value refused', () => {
    const views = new UsageQuota(new UsageCounter('max_materialized_views'), () => 3, 'enforce', () => undefined);
    expect(() => views.set(-1)).toThrow(new TypeError('usage(max_materialized_views).set: expected a non-negative integer, got -1'));
    expect(() => views.acquire(1.5)).toThrow(new TypeError('usage(max_materialized_views).acquire: expected a non-negative integer, got 1.5'));
  });

  it('the enforcement modes are enforce and shadow', () => {
    expect(ENFORCEMENT_MODES).toEqual(['enforce', 'shadow']);
  });
});
