import { describe, expect, it } from '@jest/globals';
import { formatOffset, JUMP_BOUNDS, planJump, seededRandom } from '../../../bench/soak-clock.js';
import { SoakLedger, type TierSample } from '../../../bench/soak-ledger.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const GRACE_ENDS = NOW + 44 * 86_400_000;

const sample = (overrides: Partial<TierSample>): TierSample => ({
  source: 'load',
  sentAt: 1_000,
  observedAt: 1_001,
  tier: 'pro',
  agentNowMs: NOW,
  ...overrides,
});

/** The soak's verdict on each sample decides its exit code: a false alarm or a missed loss both mislead. */
describe('SoakLedger', () => {
  it('owes no license before the backend served one, nor once the last one is past exp + grace', () => {
    const ledger = new SoakLedger(250);
    expect(ledger.judge(sample({ tier: 'community' }))).toBe('no_license_due');
    ledger.acceptable({ at: 100, tier: 'pro', graceEndsAtMs: GRACE_ENDS });
    expect(ledger.judge(sample({ tier: 'community', agentNowMs: GRACE_ENDS + 1 }))).toBe('no_license_due');
  });

  it('counts Community as a loss once a served token has had time to settle, and not before', () => {
    const ledger = new SoakLedger(250);
    ledger.acceptable({ at: 1_000, tier: 'pro', graceEndsAtMs: GRACE_ENDS });
    expect(ledger.judge(sample({ tier: 'community', sentAt: 1_100, observedAt: 1_200 }))).toBe('no_license_due');
    expect(ledger.judge(sample({ tier: 'community', sentAt: 1_250, observedAt: 1_300 }))).toBe('loss');
    expect(ledger.judge(sample({ tier: 'pro', sentAt: 1_250, observedAt: 1_300 }))).toBe('ok');
  });

  it('sets losses after a 401 apart: falling through to the cache is the agent\'s right', () => {
    const ledger = new SoakLedger(250);
    ledger.acceptable({ at: 1_000, tier: 'enterprise', graceEndsAtMs: GRACE_ENDS });
    ledger.revoked(2_000);
    expect(ledger.judge(sample({ tier: 'community', sentAt: 3_000, observedAt: 3_001 }))).toBe('loss_after_401');
    expect(ledger.judge(sample({ tier: 'pro', sentAt: 3_000, observedAt: 3_001 }))).toBe('tier_lag_after_401');
    ledger.acceptable({ at: 4_000, tier: 'pro', graceEndsAtMs: GRACE_ENDS });
    expect(ledger.judge(sample({ tier: 'community', sentAt: 5_000, observedAt: 5_001 }))).toBe('loss');
  });

  it('accepts the tier of a token served while the sample was in flight, and flags any other paid tier', () => {
    const ledger = new SoakLedger(250);
    ledger.acceptable({ at: 1_000, tier: 'pro', graceEndsAtMs: GRACE_ENDS });
    ledger.acceptable({ at: 2_000, tier: 'enterprise', graceEndsAtMs: GRACE_ENDS });
    expect(ledger.judge(sample({ tier: 'enterprise', sentAt: 1_900, observedAt: 2_100 }))).toBe('ok');
    expect(ledger.judge(sample({ tier: 'pro', sentAt: 1_900, observedAt: 2_100 }))).toBe('ok');
    expect(ledger.judge(sample({ tier: 'pro', sentAt: 2_300, observedAt: 2_301 }))).toBe('tier_lag');
  });

  it('groups findings into episodes and keeps counting past the stored ones', () => {
    const ledger = new SoakLedger(0, () => ['context line']);
    ledger.acceptable({ at: 0, tier: 'pro', graceEndsAtMs: GRACE_ENDS });
    ledger.record(sample({ tier: 'community', sentAt: 10, observedAt: 10 }));
    ledger.record(sample({ tier: 'community', sentAt: 500, observedAt: 510, source: 'probe' }));
    ledger.record(sample({ tier: 'community', sentAt: 10_000, observedAt: 10_000 }));
    expect(ledger.counts.loss).toBe(3);
    expect(ledger.episodeCount.loss).toBe(2);
    expect(ledger.episodes[0]).toMatchObject({ samples: 2, startedAt: 10, endedAt: 510, sources: { load: 1, probe: 1, status: 0 }, context: ['context line'] });
  });
});

describe('planJump', () => {
  it('keeps the wall clock within its bounds whatever the sequence of jumps', () => {
    const random = seededRandom(42);
    let offset = 0;
    let highest = 0;
    const kinds = new Set<string>();
    for (let i = 0; i < 10_000; i += 1) {
      const jump = planJump(random, offset, highest);
      kinds.add(jump.kind);
      offset = jump.toOffsetMs;
      highest = Math.max(highest, offset);
      expect(offset).toBeLessThanOrEqual(JUMP_BOUNDS.maxAheadMs);
      expect(offset).toBeGreaterThanOrEqual(-JUMP_BOUNDS.maxBehindMs);
    }
    expect([...kinds].sort()).toEqual(['back_hours', 'back_minutes', 'back_past_tolerance', 'catch_up', 'forward_hours']);
  });

  it('formats offsets for the log', () => {
    expect(formatOffset(0)).toBe('0s');
    expect(formatOffset(-(4 * 60 + 30) * 1000)).toBe('-4m30s');
    expect(formatOffset((26 * 3600 + 12 * 60) * 1000)).toBe('+1d2h12m');
  });
});
