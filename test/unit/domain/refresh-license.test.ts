import { beforeEach, describe, expect, it } from '@jest/globals';
import { BackendError } from '../../../src/domain/model/errors.js';
import { ForceRefresh } from '../../../src/domain/refresh/force-refresh.js';
import { RefreshLicense } from '../../../src/domain/refresh/refresh-license.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { DAY, MINUTE, SECOND } from '../../support/fixed-clock.js';
import { RecordingTelemetry } from '../../support/recording-telemetry.js';
import { API_KEY, resolutionHarness } from '../../support/resolution-harness.js';
import { issued } from '../../support/scripted-token-backend.js';

function setUp() {
  const h = resolutionHarness();
  const telemetry = new RecordingTelemetry();
  const refresh = new RefreshLicense(h.build({ apiKey: API_KEY }), h.state, h.clock, telemetry, h.logger);
  const token = (tier: 'pro' | 'enterprise') => h.verifier.issue(aLicenseClaims(h.clock.now(), { tier }));
  return { ...h, telemetry, refresh, token };
}

/** A backend answer that waits until the test releases it. */
function gated<T>(value: T) {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { answer: async () => (await opened, value), release };
}

describe('RefreshLicense', () => {
  let s: ReturnType<typeof setUp>;
  beforeEach(() => {
    s = setUp();
  });

  it('reports a tier change with the previous tier and records the success', async () => {
    s.backend.answer(issued(s.token('pro')));
    await s.refresh.execute();
    s.backend.answer(issued(s.token('enterprise')));
    const outcome = await s.refresh.execute();

    expect(outcome).toMatchObject({ status: 'refreshed', previousTier: 'pro', failure: null });
    expect(outcome.snapshot.license.tier).toBe('enterprise');
    expect(s.logger.at('info')).toContain('License upgraded from Pro to Enterprise');
    expect(s.refresh.status()).toMatchObject({ lastAttemptAt: s.clock.now(), lastOutcome: 'refreshed', lastError: null });
    expect(s.telemetry.refreshes).toEqual([
      { outcome: 'refreshed', reason: null },
      { outcome: 'refreshed', reason: null },
    ]);
  });

  it('shares one backend request among concurrent callers', async () => {
    const slow = gated(issued(s.token('pro')));
    s.backend.answer(slow.answer);
    const calls = Array.from({ length: 25 }, () => s.refresh.execute());
    slow.release();
    const outcomes = await Promise.all(calls);

    expect(s.backend.requests).toHaveLength(1);
    expect(new Set(outcomes).size).toBe(1);
    expect(s.refresh.inFlight).toBeNull();
  });

  it('a transient failure keeps the license and records the reason and Retry-After', async () => {
    s.backend.answer(issued(s.token('pro')));
    await s.refresh.execute();
    s.backend.answer(new BackendError('BACKEND.HTTP_STATUS', 'license backend answered HTTP 429', { status: 429, retryAfterMs: 30 * SECOND }));
    const outcome = await s.refresh.execute();

    expect(outcome).toMatchObject({ status: 'failed', previousTier: 'pro', retryAfterMs: 30 * SECOND });
    expect(outcome.snapshot.license.tier).toBe('pro');
    expect(s.refresh.status()).toMatchObject({ lastOutcome: 'failed', lastError: 'BACKEND.HTTP_STATUS: license backend answered HTTP 429' });
    expect(s.telemetry.refreshes.at(-1)).toEqual({ outcome: 'failed', reason: 'BACKEND.HTTP_STATUS' });
  });
});

describe('RefreshLicense without a backend call', () => {
  it('is skipped, not refreshed, when no API key is configured, even when the cache supplies a license', async () => {
    const h = resolutionHarness();
    const telemetry = new RecordingTelemetry();
    h.cache.jwt = h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro' }));
    const refresh = new RefreshLicense(h.build({ apiKey: null }), h.state, h.clock, telemetry, h.logger);
    const outcome = await refresh.execute();

    expect(outcome).toMatchObject({ status: 'skipped', failure: null });
    expect(outcome.snapshot.license.source).toBe('cache');
    expect(refresh.status()).toMatchObject({ lastOutcome: 'skipped', lastError: null });
    expect(telemetry.refreshes).toEqual([{ outcome: 'skipped', reason: null }]);
  });

  it('is skipped while a valid static JWT is in force, API key or not: the backend is never reached', async () => {
    const h = resolutionHarness();
    const telemetry = new RecordingTelemetry();
    const staticJwt = h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'enterprise' }));
    const refresh = new RefreshLicense(h.build({ staticJwt, apiKey: API_KEY }), h.state, h.clock, telemetry, h.logger);
    const outcome = await refresh.execute();

    expect(outcome).toMatchObject({ status: 'skipped', failure: null });
    expect(outcome.snapshot.license.source).toBe('static');
    expect(h.backend.requests).toHaveLength(0);
    expect(telemetry.refreshes).toEqual([{ outcome: 'skipped', reason: null }]);
  });

  it('is refreshed once the static JWT no longer verifies and the backend answers', async () => {
    const h = resolutionHarness();
    const telemetry = new RecordingTelemetry();
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro' }))));
    const refresh = new RefreshLicense(h.build({ staticJwt: 'not-a-token', apiKey: API_KEY }), h.state, h.clock, telemetry, h.logger);

    expect(await refresh.execute()).toMatchObject({ status: 'refreshed' });
    expect(telemetry.refreshes).toEqual([{ outcome: 'refreshed', reason: null }]);
  });
});

describe('ForceRefresh', () => {
  it('answers no_api_key without an API key', async () => {
    const s = setUp();
    const force = new ForceRefresh(s.refresh, s.clock, { apiKeyConfigured: false, minIntervalMs: 10 * SECOND });
    expect(await force.execute()).toEqual({ kind: 'no_api_key' });
    expect(s.backend.requests).toHaveLength(0);
  });

  it('refuses a new forced refresh within the minimum interval after the last one finished', async () => {
    const s = setUp();
    const force = new ForceRefresh(s.refresh, s.clock, { apiKeyConfigured: true, minIntervalMs: 10 * SECOND });
    s.backend.answer(issued(s.token('pro')));
    expect((await force.execute()).kind).toBe('done');
    s.clock.advance(4 * SECOND);
    expect(await force.execute()).toEqual({ kind: 'too_soon', retryAfterMs: 6 * SECOND });
    s.clock.advance(6 * SECOND);
    expect((await force.execute()).kind).toBe('done');
    expect(s.backend.requests).toHaveLength(2);
  });

  it('never asks to wait longer than the minimum interval when the clock steps back', async () => {
    const s = setUp();
    const force = new ForceRefresh(s.refresh, s.clock, { apiKeyConfigured: true, minIntervalMs: 10 * SECOND });
    s.backend.answer(issued(s.token('pro')));
    expect((await force.execute()).kind).toBe('done');
    s.clock.advance(-4 * MINUTE); // an NTP step back, within the high-water clock's 5-minute tolerance
    expect(await force.execute()).toEqual({ kind: 'too_soon', retryAfterMs: 10 * SECOND });
    s.clock.advance(10 * SECOND);
    expect((await force.execute()).kind).toBe('done');
    expect(s.backend.requests).toHaveLength(2);
  });

  it('does not count start-up or periodic refreshes', async () => {
    const s = setUp();
    const force = new ForceRefresh(s.refresh, s.clock, { apiKeyConfigured: true, minIntervalMs: 10 * SECOND });
    s.backend.answer(issued(s.token('pro')));
    await s.refresh.execute();
    expect((await force.execute()).kind).toBe('done');
  });

  it('lets callers join a refresh in flight instead of refusing them', async () => {
    const s = setUp();
    const force = new ForceRefresh(s.refresh, s.clock, { apiKeyConfigured: true, minIntervalMs: 10 * SECOND });
    const slow = gated(issued(s.token('pro')));
    s.backend.answer(slow.answer);
    const results = [force.execute(), force.execute(), force.execute()];
    slow.release();
    expect((await Promise.all(results)).map((r) => r.kind)).toEqual(['done', 'done', 'done']);
    expect(s.backend.requests).toHaveLength(1);
  });

  it('with a zero minimum interval never refuses', async () => {
    const s = setUp();
    const force = new ForceRefresh(s.refresh, s.clock, { apiKeyConfigured: true, minIntervalMs: 0 });
    s.backend.answer(issued(s.token('pro')));
    for (let i = 0; i < 3; i += 1) expect((await force.execute()).kind).toBe('done');
  });
});

describe('RefreshLicense logs', () => {
  it('says "License renewed" for the first success after failures, and a quiet DEBUG when nothing changed', async () => {
    const h = resolutionHarness();
    const refresh = new RefreshLicense(h.build({ apiKey: API_KEY }), h.state, h.clock, new RecordingTelemetry(), h.logger);
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro' }))));
    await refresh.execute();
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro' }))));
    await refresh.execute();
    expect(h.logger.at('debug')).toContainEqual(expect.stringMatching(/^License refresh refreshed: Pro until .*, nothing changed$/));

    h.backend.answer(new BackendError('BACKEND.UNREACHABLE', 'down'));
    await refresh.execute();
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro' }))));
    await refresh.execute();
    expect(h.logger.at('info')).toContainEqual(expect.stringMatching(/^License renewed: Pro until /));
  });

  it('says "License renewed" when a license in grace is renewed', async () => {
    const h = resolutionHarness();
    const refresh = new RefreshLicense(h.build({ apiKey: API_KEY }), h.state, h.clock, new RecordingTelemetry(), h.logger);
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro', expiresAt: new Date(h.clock.now().getTime() + DAY) }))));
    await refresh.execute();
    h.clock.advance(2 * DAY); // in grace
    h.logger.clear();
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro' }))));
    await refresh.execute();
    expect(h.logger.at('info')).toEqual([expect.stringMatching(/^License renewed: Pro until /)]);
  });
});
