import { describe, expect, it } from '@jest/globals';
import { checkFeature, checkQuota, ConcurrencyGate, describeDenial } from '../../../src/domain/enforcement/enforcement.js';
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

describe('ConcurrencyGate', () => {
  it('admits up to the limit, then refuses until a slot is released', () => {
    const gate = new ConcurrencyGate();
    expect([1, 2, 3].map(() => gate.tryEnter(2))).toEqual([true, true, false]);
    gate.leave();
    expect(gate.tryEnter(2)).toBe(true);
    expect(gate.active).toBe(2);
  });

  it('applies a new, lower limit to the next query at once', () => {
    const gate = new ConcurrencyGate();
    gate.tryEnter(50);
    gate.tryEnter(50);
    expect(gate.tryEnter(1)).toBe(false);
  });

  it('never counts below zero: a stray release does not add a slot', () => {
    const gate = new ConcurrencyGate();
    gate.leave();
    gate.leave();
    expect(gate.active).toBe(0);
    expect([gate.tryEnter(1), gate.tryEnter(1)]).toEqual([true, false]);
  });

  it('admits anything when unlimited', () => {
    const gate = new ConcurrencyGate();
    for (let i = 0; i < 1000; i += 1) expect(gate.tryEnter(null)).toBe(true);
  });
});
