import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { UsageCounters, type UsageCounts } from '../../../src/domain/telemetry/usage-counters.js';

const NOTHING: UsageCounts = { quotaDenials: {}, featureDenials: {}, peakUsage: {} };

describe('UsageCounters (DESIGN §12)', () => {
  it('has nothing to say before anything happened', () => {
    expect(new UsageCounters().snapshot()).toEqual(NOTHING);
  });

  it('counts denials by quota and by feature', () => {
    const counters = new UsageCounters();
    counters.quotaDenied('max_result_rows');
    counters.quotaDenied('max_result_rows');
    counters.quotaDenied('max_joins');
    counters.featureDenied('federation');

    expect(counters.snapshot()).toEqual({
      quotaDenials: { max_result_rows: 2, max_joins: 1 },
      featureDenials: { federation: 1 },
      peakUsage: {},
    });
  });

  it('keeps the highest usage observed of each quota, not the last', () => {
    const counters = new UsageCounters();
    for (const active of [1, 2, 3, 2, 1, 0]) counters.observeUsage('max_concurrent_queries', active);
    counters.observeUsage('max_materialized_views', 7);

    expect(counters.snapshot().peakUsage).toEqual({ max_concurrent_queries: 3, max_materialized_views: 7 });
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('ignores a usage of %p', (value) => {
    const counters = new UsageCounters();
    counters.observeUsage('max_clusters', value);

    expect(counters.snapshot().peakUsage).toEqual({});
  });

  it('gives a frozen snapshot that later counts do not change', () => {
    const counters = new UsageCounters();
    counters.quotaDenied('max_joins');
    const snapshot = counters.snapshot();
    counters.quotaDenied('max_joins');

    expect(snapshot.quotaDenials).toEqual({ max_joins: 1 });
    expect(Object.isFrozen(snapshot) && Object.isFrozen(snapshot.quotaDenials)).toBe(true);
  });

  describe('a send that fails (never acknowledged)', () => {
    it('keeps everything: the next snapshot has the old counts and the new ones', () => {
      const counters = new UsageCounters();
      counters.quotaDenied('max_result_rows');
      counters.observeUsage('max_concurrent_queries', 4);
      counters.snapshot(); // the send fails
      counters.quotaDenied('max_result_rows');
      counters.observeUsage('max_concurrent_queries', 1);

      expect(counters.snapshot()).toEqual({ quotaDenials: { max_result_rows: 2 }, featureDenials: {}, peakUsage: { max_concurrent_queries: 4 } });
    });
  });

  describe('a send that succeeds (acknowledged)', () => {
    it('takes off what it carried: the next snapshot starts from zero', () => {
      const counters = new UsageCounters();
      counters.quotaDenied('max_result_rows');
      counters.featureDenied('repl');
      counters.acknowledge(counters.snapshot());

      expect(counters.snapshot()).toEqual(NOTHING);
    });

    it('keeps what was counted while the request was in flight', () => {
      const counters = new UsageCounters();
      counters.quotaDenied('max_result_rows');
      const sent = counters.snapshot();
      counters.quotaDenied('max_result_rows'); // during the request
      counters.featureDenied('federation');
      counters.acknowledge(sent);

      expect(counters.snapshot()).toEqual({ quotaDenials: { max_result_rows: 1 }, featureDenials: { federation: 1 }, peakUsage: {} });
    });

    it('starts a new peak window at the usage of the moment it was taken, raised by what came during the request', () => {
      const counters = new UsageCounters();
      counters.observeUsage('max_concurrent_queries', 9);
      counters.observeUsage('max_concurrent_queries', 2);
      counters.observeUsage('max_clusters', 3);
      const sent = counters.snapshot();
      expect(sent.peakUsage).toEqual({ max_concurrent_queries: 9, max_clusters: 3 });
      counters.observeUsage('max_concurrent_queries', 5); // during the request
      counters.observeUsage('max_concurrent_queries', 1);
      counters.acknowledge(sent);

      expect(counters.snapshot().peakUsage).toEqual({ max_concurrent_queries: 5, max_clusters: 3 });
    });

    it('is harmless when acknowledged twice, or out of order with a newer snapshot', () => {
      const counters = new UsageCounters();
      counters.quotaDenied('max_joins');
      const older = counters.snapshot();
      counters.quotaDenied('max_joins');
      const newer = counters.snapshot();
      counters.quotaDenied('max_joins');

      counters.acknowledge(newer);
      counters.acknowledge(older);
      counters.acknowledge(newer);

      expect(counters.snapshot().quotaDenials).toEqual({ max_joins: 1 });
    });

    it('ignores a snapshot it did not take', () => {
      const counters = new UsageCounters();
      counters.quotaDenied('max_joins');
      counters.acknowledge({ quotaDenials: { max_joins: 1 }, featureDenials: {}, peakUsage: {} });

      expect(counters.snapshot().quotaDenials).toEqual({ max_joins: 1 });
    });
  });

  it('never loses nor double-counts a denial, whichever sends fail or succeed, in any order (property)', () => {
    type Step = { kind: 'deny' } | { kind: 'send' } | { kind: 'settle'; index: number; delivered: boolean };
    const step = fc.oneof(
      fc.constant<Step>({ kind: 'deny' }),
      fc.constant<Step>({ kind: 'send' }),
      fc.record({ kind: fc.constant<'settle'>('settle'), index: fc.nat(20), delivered: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const counters = new UsageCounters();
        const inFlight: { counts: UsageCounts; deniedBefore: number }[] = [];
        let denied = 0;
        // The backend's view: each delivered report adds the denials it had not heard of yet.
        let heardOf = 0;
        let received = 0;
        for (const s of steps) {
          if (s.kind === 'deny') {
            counters.quotaDenied('max_result_rows');
            denied += 1;
          } else if (s.kind === 'send') {
            const counts = counters.snapshot();
            expect((counts.quotaDenials.max_result_rows ?? 0) + heardOf).toBe(denied);
            inFlight.push({ counts, deniedBefore: denied });
          } else if (inFlight.length > 0) {
            const [sent] = inFlight.splice(s.index % inFlight.length, 1);
            if (!s.delivered || sent === undefined) continue;
            received += Math.max(0, sent.deniedBefore - heardOf);
            heardOf = Math.max(heardOf, sent.deniedBefore);
            counters.acknowledge(sent.counts);
          }
        }
        const pending = counters.snapshot().quotaDenials.max_result_rows ?? 0;
        expect(received + pending).toBe(denied);
      }),
      { numRuns: 300 },
    );
  });
});

describe('UsageCounters: observed usage', () => {
  it('a usage of 1 or 0 is a peak; a negative or fractional usage is ignored', () => {
    const counters = new UsageCounters();
    counters.observeUsage('max_clusters', 1);
    counters.observeUsage('max_materialized_views', 0);
    counters.observeUsage('max_concurrent_queries', -1);
    counters.observeUsage('max_concurrent_queries', 1.5);
    expect(counters.snapshot().peakUsage).toEqual({ max_clusters: 1, max_materialized_views: 0 });
  });

  it('a usage back to 0 is the level the next window starts from', () => {
    const counters = new UsageCounters();
    counters.observeUsage('max_clusters', 5);
    counters.observeUsage('max_clusters', 0);
    counters.acknowledge(counters.snapshot());
    expect(counters.snapshot().peakUsage).toEqual({ max_clusters: 0 });
  });

  it('a negative usage never becomes the level a window starts from', () => {
    const counters = new UsageCounters();
    counters.observeUsage('max_clusters', -1);
    counters.acknowledge(counters.snapshot());
    expect(counters.snapshot().peakUsage).toEqual({});
  });

  it('acknowledging an older snapshot after a newer one was taken keeps the peak the newer one carries', () => {
    const counters = new UsageCounters();
    counters.observeUsage('max_clusters', 5);
    const older = counters.snapshot();
    counters.observeUsage('max_clusters', 1);
    const newer = counters.snapshot();
    expect(newer.peakUsage).toEqual({ max_clusters: 5 });

    counters.acknowledge(older);
    expect(counters.snapshot().peakUsage).toEqual({ max_clusters: 5 });
  });
});
