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

  it('starts no resolution once stopped: a later call answers skipped with the license in force, without a backend call', async () => {
    s.backend.answer(issued(s.token('pro')));
    await s.refresh.execute();
    s.refresh.stop();

    const outcome = await s.refresh.execute();

    expect(s.backend.requests).toHaveLength(1);
    expect(outcome).toMatchObject({ status: 'skipped', previousTier: 'pro', failure: null, permanent: false });
    expect(outcome.snapshot.license.tier).toBe('pro');
    expect(s.telemetry.refreshes).toHaveLength(1); // nothing happened, nothing counted
    expect(await s.refresh.executeAfterChange()).toMatchObject({ status: 'skipped' });
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

describe('RefreshLicense log lines and listeners', () => {
  const proUntil = (h: ReturnType<typeof resolutionHarness>, expiresAt: Date) =>
    issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro', expiresAt })));
  const renewals = (h: ReturnType<typeof resolutionHarness>) => h.logger.entries.filter((entry) => entry.message.startsWith('License renewed'));
  const quietLines = (h: ReturnType<typeof resolutionHarness>) => h.logger.at('debug').filter((message) => message.startsWith('License refresh'));

  it('the renewal line names the new expiry and says whether the license was in grace and whether failures came before', async () => {
    const h = resolutionHarness();
    const refresh = new RefreshLicense(h.build({ apiKey: API_KEY }), h.state, h.clock, new RecordingTelemetry(), h.logger);
    const renewedUntil = new Date(h.clock.now().getTime() + 400 * DAY);
    h.backend.answer(proUntil(h, new Date(h.clock.now().getTime() + DAY)));
    await refresh.execute();
    h.clock.advance(2 * DAY); // in grace
    h.backend.answer(new BackendError('BACKEND.UNREACHABLE', 'down'));
    await refresh.execute();
    h.backend.answer(proUntil(h, renewedUntil));
    await refresh.execute();

    expect(renewals(h)).toEqual([
      { level: 'info', message: `License renewed: Pro until ${renewedUntil.toISOString()}`, fields: { was_in_grace: true, after_failures: true } },
    ]);
  });

  it('at the very instant of expiry a license is not yet in grace: its renewal is a quiet line', async () => {
    const h = resolutionHarness();
    const refresh = new RefreshLicense(h.build({ apiKey: API_KEY }), h.state, h.clock, new RecordingTelemetry(), h.logger);
    const expiresAt = new Date(h.clock.now().getTime() + DAY);
    h.backend.answer(proUntil(h, expiresAt));
    await refresh.execute();
    h.clock.set(expiresAt);
    h.backend.answer(proUntil(h, expiresAt));
    await refresh.execute();
    expect(renewals(h)).toEqual([]);
    expect(quietLines(h)).toEqual([`License refresh refreshed: Pro until ${expiresAt.toISOString()}, nothing changed`]);

    h.clock.advance(1);
    h.backend.answer(proUntil(h, expiresAt));
    await refresh.execute();
    expect(renewals(h)).toEqual([expect.objectContaining({ fields: { was_in_grace: true, after_failures: false } })]);
  });

  it('a refresh that changes nothing says so at DEBUG only, Community named without an expiry', async () => {
    const h = resolutionHarness();
    const refresh = new RefreshLicense(h.build({ apiKey: null }), h.state, h.clock, new RecordingTelemetry(), h.logger);
    await refresh.execute();

    expect(quietLines(h)).toEqual(['License refresh skipped: Community, nothing changed']);
    expect(renewals(h)).toEqual([]);
  });

  it('a tier change has its own INFO line only: no renewal line, no quiet line; a failed refresh has neither', async () => {
    const h = resolutionHarness();
    const refresh = new RefreshLicense(h.build({ apiKey: API_KEY }), h.state, h.clock, new RecordingTelemetry(), h.logger);
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'enterprise' }))));
    await refresh.execute();
    h.backend.answer(new BackendError('BACKEND.UNREACHABLE', 'down'));
    await refresh.execute();

    expect(h.logger.at('info')).toEqual(['License upgraded from Community to Enterprise']);
    expect(quietLines(h)).toEqual([]);
  });

  it('records when the attempt started, and the outcome when it finished; every listener hears every refresh until it unsubscribes', async () => {
    const h = resolutionHarness();
    const refresh = new RefreshLicense(h.build({ apiKey: API_KEY }), h.state, h.clock, new RecordingTelemetry(), h.logger);
    const heard: string[] = [];
    const unsubscribe = refresh.onFinished((outcome) => heard.push(`first:${outcome.status}`));
    refresh.onFinished((outcome) => heard.push(`second:${outcome.status}`));
    const startedAt = h.clock.now();
    let release!: () => void;
    const opened = new Promise<void>((resolve) => {
      release = resolve;
    });
    const answer = issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro' })));
    h.backend.answer(async () => (await opened, answer));

    const running = refresh.execute();
    expect(refresh.inFlight).toBe(running);
    h.clock.advance(5 * MINUTE);
    release();
    const outcome = await running;

    expect(outcome.finishedAt).toEqual(new Date(startedAt.getTime() + 5 * MINUTE));
    expect(refresh.status().lastAttemptAt).toEqual(startedAt);
    expect(heard).toEqual(['first:refreshed', 'second:refreshed']);

    unsubscribe();
    h.backend.answer(new BackendError('BACKEND.UNREACHABLE', 'down'));
    await refresh.execute();
    expect(heard).toEqual(['first:refreshed', 'second:refreshed', 'second:failed']);
  });
});

describe('RefreshLicense status and quiet lines', () => {
  it('reports no attempt, no outcome and no error before the first refresh', () => {
    const h = resolutionHarness();
    const refresh = new RefreshLicense(h.build(), h.state, h.clock, new RecordingTelemetry(), h.logger);
    expect(refresh.status()).toEqual({ lastAttemptAt: null, lastOutcome: null, lastError: null });
  });

  it('a skipped refresh of a license in grace (a static JWT) is a quiet line, never "License renewed"', async () => {
    const h = resolutionHarness();
    const expiresAt = new Date(h.clock.now().getTime() + DAY);
    const refresh = new RefreshLicense(
      h.build({ staticJwt: h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro', expiresAt })) }),
      h.state,
      h.clock,
      new RecordingTelemetry(),
      h.logger,
    );
    await refresh.execute();
    h.clock.advance(2 * DAY); // in grace
    h.logger.clear();

    expect((await refresh.execute()).status).toBe('skipped');
    expect(h.logger.entries.filter((entry) => entry.message.startsWith('License re'))).toEqual([
      { level: 'debug', message: `License refresh skipped: Pro until ${expiresAt.toISOString()}, nothing changed`, fields: {} },
    ]);
  });
});
