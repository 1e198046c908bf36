import { describe, expect, it } from '@jest/globals';
import { COMMUNITY_LICENSE, licenseFromToken, type License } from '../../../src/domain/model/license.js';
import { LicenseState } from '../../../src/domain/model/license-state.js';
import type { ResolutionAttempt } from '../../../src/domain/model/resolution-trail.js';
import { trusted } from '../../../src/domain/model/safe-text.js';
import type { Tier } from '../../../src/domain/model/tier.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';

const now = new Date('2026-06-01T00:00:00Z');
const paid = (tier: Tier): License =>
  licenseFromToken(
    { jwt: 'x', gracePeriodMs: 14 * 86_400_000, claims: aLicenseClaims(now, { tier }), info: { kid: 'k', jti: null, issuedAt: now, expiresAt: now, fingerprint: 'f' } },
    'api_key',
  );
/** A fall back to Community because a source failed (here the backend). */
const FELL_BACK: ResolutionAttempt[] = [
  { source: 'api_key', outcome: 'failed', code: trusted('BACKEND.UNREACHABLE'), message: trusted('unreachable') },
  { source: 'community', outcome: 'used', code: null, message: null },
];

describe('LicenseState', () => {
  it('starts as Community, not degraded', () => {
    const state = new LicenseState(now);
    expect(state.current()).toMatchObject({ license: COMMUNITY_LICENSE, degraded: false, resolution: [] });
  });

  it('replaces the snapshot as a whole, leaving earlier snapshots untouched', () => {
    const state = new LicenseState(now);
    const before = state.current();
    const { after } = state.install(paid('pro'), [], now);
    expect(state.current()).toBe(after);
    expect(before.license.tier).toBe('community');
    expect(Object.isFrozen(after)).toBe(true);
  });

  it.each([
    [['pro'], 'License upgraded from Community to Pro'],
    [['enterprise', 'pro'], 'License downgraded from Enterprise to Pro'],
    [['pro', 'community'], 'License downgraded from Pro to Community'],
    [['pro', 'community', 'enterprise'], 'License restored to Enterprise'],
    [['pro', 'pro'], null],
  ])('after %j the last change says %j', (tiers, message) => {
    const state = new LicenseState(now);
    const changes = (tiers as (Tier | 'community')[]).map((tier) =>
      state.install(tier === 'community' ? COMMUNITY_LICENSE : paid(tier), tier === 'community' ? FELL_BACK : [], now),
    );
    expect(changes.at(-1)?.message).toBe(message);
  });

  it('is degraded only after a paid license fell back to Community, until an issued license returns', () => {
    const state = new LicenseState(now);
    expect(state.install(COMMUNITY_LICENSE, FELL_BACK, now).after.degraded).toBe(false); // cold start in Community
    state.install(paid('pro'), [], now);
    expect(state.install(COMMUNITY_LICENSE, FELL_BACK, now).after.degraded).toBe(true);
    expect(state.install(COMMUNITY_LICENSE, FELL_BACK, now).after.degraded).toBe(true); // still lost
    expect(state.install(paid('pro'), [], now).after.degraded).toBe(false);
  });

  it('is not degraded when the source of the paid license is no longer configured (skipped): given up, not lost', () => {
    const state = new LicenseState(now);
    state.install(paid('pro'), [], now); // source api_key
    const skipped: ResolutionAttempt[] = [
      { source: 'api_key', outcome: 'skipped', code: null, message: trusted('no API key configured') },
      { source: 'cache', outcome: 'failed', code: trusted('LICENSE.EXPIRED'), message: trusted('a stale cache file, kept') },
      { source: 'community', outcome: 'used', code: null, message: null },
    ];
    const change = state.install(COMMUNITY_LICENSE, skipped, now);
    expect(change.after.degraded).toBe(false);
    expect(change.message).toBe('License downgraded from Pro to Community');

    state.install(paid('pro'), [], now);
    expect(state.install(COMMUNITY_LICENSE, FELL_BACK, now).after.degraded).toBe(true);
    expect(state.install(COMMUNITY_LICENSE, skipped, now).after.degraded).toBe(true); // still lost
  });

  it('a community-tier token issued by the backend is a downgrade, not a degradation', () => {
    const state = new LicenseState(now);
    state.install(paid('pro'), [], now);
    const change = state.install(paid('community'), [], now);
    expect(change.after.degraded).toBe(false);
    expect(change.message).toBe('License downgraded from Pro to Community');
  });
});

describe('LicenseState: degradation and listeners', () => {
  it('a paid license from a later source after a failed one (the cache after a rejection) is not degraded', () => {
    const state = new LicenseState(now);
    state.install(paid('pro'), [], now);
    expect(state.install(paid('pro'), FELL_BACK, now).after.degraded).toBe(false);
  });

  it('tells every listener each change, until it unsubscribes', () => {
    const state = new LicenseState(now);
    const heard: (string | null)[] = [];
    const other: boolean[] = [];
    const unsubscribe = state.onChange((change) => heard.push(change.message));
    state.onChange((change) => other.push(change.after.degraded));
    const first = state.install(paid('pro'), [], now);
    unsubscribe();
    state.install(paid('enterprise'), [], now);

    expect(heard).toEqual([first.message]);
    expect(first.message).toBe('License upgraded from Community to Pro');
    expect(other).toEqual([false, false]);
  });
});
