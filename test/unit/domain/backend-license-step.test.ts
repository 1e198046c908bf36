import { describe, expect, it } from '@jest/globals';
import { ConditionLog, TRANSIENT_REPEAT_MS } from '../../../src/domain/logging/condition-log.js';
import { BackendError, CacheError } from '../../../src/domain/model/errors.js';
import { CurrentLicenseSources } from '../../../src/domain/model/license-sources.js';
import { ResolutionTrail } from '../../../src/domain/model/resolution-trail.js';
import { REDACTED, TextGate } from '../../../src/domain/model/safe-text.js';
import { BackendLicenseStep } from '../../../src/domain/resolution/backend-license.step.js';
import type { TokenBackend } from '../../../src/ports/token-backend.port.js';
import { FakeLicenseVerifier } from '../../support/fake-license-verifier.js';
import { DAY, FixedClock } from '../../support/fixed-clock.js';
import { InMemoryLicenseCache } from '../../support/in-memory-license-cache.js';
import { InMemoryTrustedTime } from '../../support/in-memory-trusted-time.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { issued, ScriptedTokenBackend } from '../../support/scripted-token-backend.js';

const API_KEY = 'sk-test-0123456789';
const INSTANCE_ID = '6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f';

function stepParts(apiKey: string | null = API_KEY, backend: TokenBackend = new ScriptedTokenBackend()) {
  const clock = new FixedClock();
  const logger = new RecordingLogger();
  const verifier = new FakeLicenseVerifier(clock, { gracePeriodMs: 14 * DAY, instanceId: INSTANCE_ID });
  const cache = new InMemoryLicenseCache();
  const trustedTime = new InMemoryTrustedTime();
  const gate = new TextGate([API_KEY]);
  const sources = new CurrentLicenseSources({ staticLicenseJwt: null, installedLicenseJwt: null, apiKey });
  const step = new BackendLicenseStep(
    { instanceId: INSTANCE_ID, agentVersion: '9.9.9' },
    sources,
    backend,
    verifier,
    cache,
    trustedTime,
    logger,
    gate,
    new ConditionLog(logger, clock),
  );
  const token = (overrides: Parameters<typeof aLicenseClaims>[1] = {}) => verifier.issue(aLicenseClaims(clock.now(), overrides));
  return { clock, logger, verifier, cache, trustedTime, step, token };
}

/** The backend's answer without "expires_in" (advisory, and a DEBUG line when it disagrees with the token). */
const answered = (jwt: string, message: string | null = null) => ({ ...issued(jwt, message), expiresInSeconds: null });

/** One attempt; what the trail keeps of the backend step's failure. */
async function failedAttempt(p: ReturnType<typeof stepParts>) {
  const trail = new ResolutionTrail();
  expect(await p.step.attempt(trail)).toBeNull();
  return { transient: trail.backendFailedTransiently, retryAfterMs: trail.backendRetryAfterMs, attempts: trail.attempts() };
}

describe('BackendLicenseStep: what each failure logs, and whether a retry may fix it', () => {
  it('a token older than one already accepted: one WARN with the code; transient (a stale replica may catch up)', async () => {
    const backend = new ScriptedTokenBackend();
    const p = stepParts(API_KEY, backend);
    p.trustedTime.newest = new Date(p.clock.now().getTime() - DAY);
    const issuedAt = new Date(p.clock.now().getTime() - 2 * DAY);
    backend.answer(answered(p.token({ issuedAt })));

    const failure = await failedAttempt(p);

    expect(p.logger.entries).toEqual([
      {
        level: 'warn',
        message: `License backend answered with an older license than the one already accepted: license token issued at ${issuedAt.toISOString()} is older than one already accepted (issued at ${p.trustedTime.newest.toISOString()})`,
        fields: { code: 'LICENSE.SUPERSEDED' },
      },
    ]);
    expect(failure).toMatchObject({ transient: true, retryAfterMs: null });
    expect(p.cache.saves).toBe(0);
  });

  it('a token that does not verify: one ERROR with the code; transient', async () => {
    const p = stepParts(API_KEY, new ScriptedTokenBackend(issued('forged-token')));

    const failure = await failedAttempt(p);

    expect(p.logger.entries).toEqual([
      {
        level: 'error',
        message: 'License issued by the backend failed verification: license token signature does not verify',
        fields: { code: 'LICENSE.SIGNATURE_INVALID' },
      },
    ]);
    expect(failure).toMatchObject({ transient: true, retryAfterMs: null });
  });

  it('a backend that answered 503: one WARN with code and status; transient, with the delay it asked for', async () => {
    const error = new BackendError('BACKEND.HTTP_STATUS', 'license backend answered HTTP 503', { status: 503, retryAfterMs: 30_000 });
    const p = stepParts(API_KEY, new ScriptedTokenBackend(error));

    const failure = await failedAttempt(p);

    expect(p.logger.entries).toEqual([
      { level: 'warn', message: 'License backend request failed: license backend answered HTTP 503', fields: { code: 'BACKEND.HTTP_STATUS', status: 503 } },
    ]);
    expect(failure).toMatchObject({ transient: true, retryAfterMs: 30_000 });
  });

  it('an unreachable backend: WARN with a null status; transient', async () => {
    const p = stepParts(API_KEY, new ScriptedTokenBackend(new BackendError('BACKEND.UNREACHABLE', 'connection refused')));

    const failure = await failedAttempt(p);

    expect(p.logger.entries).toEqual([
      { level: 'warn', message: 'License backend request failed: connection refused', fields: { code: 'BACKEND.UNREACHABLE', status: null } },
    ]);
    expect(failure).toMatchObject({ transient: true, retryAfterMs: null });
  });

  it('a rejected API key: one ERROR quoting the HTTP status and the backend message, gated; permanent', async () => {
    const rejection = new BackendError('BACKEND.REJECTED', `API key ${API_KEY} revoked by the administrator`, { status: 401 });
    const p = stepParts(API_KEY, new ScriptedTokenBackend(rejection));

    const failure = await failedAttempt(p);

    expect(p.logger.entries).toEqual([
      {
        level: 'error',
        message: `License backend rejected the API key (HTTP 401): API key ${REDACTED} revoked by the administrator`,
        fields: { code: 'BACKEND.REJECTED', status: 401 },
      },
    ]);
    expect(failure).toMatchObject({ transient: false, retryAfterMs: null });
  });

  it('a rejection that carries no status still says HTTP 401, the only status a rejection has', async () => {
    const p = stepParts(API_KEY, new ScriptedTokenBackend(new BackendError('BACKEND.REJECTED', 'revoked')));

    await failedAttempt(p);

    expect(p.logger.entries).toEqual([
      { level: 'error', message: 'License backend rejected the API key (HTTP 401): revoked', fields: { code: 'BACKEND.REJECTED', status: null } },
    ]);
  });

  it('a rejected API key stays a permanent condition: logged at ERROR once, at DEBUG however long it lasts', async () => {
    const p = stepParts(API_KEY, new ScriptedTokenBackend(new BackendError('BACKEND.REJECTED', 'revoked', { status: 401 })));
    await failedAttempt(p);
    p.clock.advance(TRANSIENT_REPEAT_MS);
    await failedAttempt(p);

    expect(p.logger.entries.map((entry) => entry.level)).toEqual(['error', 'debug']);
  });

  it('a malformed API key stays a permanent condition too', async () => {
    const p = stepParts('pk-live-123');
    await failedAttempt(p);
    p.clock.advance(TRANSIENT_REPEAT_MS);
    await failedAttempt(p);

    expect(p.logger.entries.map((entry) => entry.level)).toEqual(['error', 'debug']);
  });

  it('a malformed API key: one ERROR with the code, the key never quoted, the backend never called; permanent', async () => {
    const backend = new ScriptedTokenBackend(issued('unused'));
    const p = stepParts('pk-live-123', backend);

    const failure = await failedAttempt(p);

    expect(p.logger.entries).toEqual([
      { level: 'error', message: 'API key is malformed: expected "sk-" followed by printable characters without spaces', fields: { code: 'API_KEY.MALFORMED' } },
    ]);
    expect(failure).toMatchObject({ transient: false, retryAfterMs: null });
    expect(backend.requests).toEqual([]);
  });

  it('an unexpected error (a plugin\'s bug): one ERROR with a generic code and the error whole; transient', async () => {
    const bug = new TypeError('backend plugin bug');
    const p = stepParts(API_KEY, { requestToken: async () => Promise.reject(bug) });

    const failure = await failedAttempt(p);

    expect(p.logger.entries).toEqual([
      { level: 'error', message: 'License backend step failed: unexpected internal error', fields: { code: 'INTERNAL.UNEXPECTED', err: bug } },
    ]);
    expect(failure).toMatchObject({ transient: true, retryAfterMs: null });
    expect(failure.attempts).toEqual([{ source: 'api_key', outcome: 'failed', code: 'INTERNAL.UNEXPECTED', message: 'unexpected internal error' }]);
  });

  it('an unexpected error is not taken for a verdict by the code or flags it carries', async () => {
    const impostors = [
      Object.assign(new Error('looks superseded'), { code: 'LICENSE.SUPERSEDED' }),
      Object.assign(new Error('looks transient'), { code: 'BACKEND.UNREACHABLE', transient: true, status: 503 }),
    ];
    for (const impostor of impostors) {
      const p = stepParts(API_KEY, { requestToken: async () => Promise.reject(impostor) });

      await failedAttempt(p);

      expect(p.logger.entries).toEqual([
        { level: 'error', message: 'License backend step failed: unexpected internal error', fields: { code: 'INTERNAL.UNEXPECTED', err: impostor } },
      ]);
    }
  });

  it('no API key: a skipped step, silent, and no failure for the trail', async () => {
    const p = stepParts(null);
    const trail = new ResolutionTrail();

    expect(await p.step.attempt(trail)).toBeNull();

    expect(trail.attempts()).toEqual([{ source: 'api_key', outcome: 'skipped', code: null, message: 'no API key configured' }]);
    expect(trail.backendFailure).toBeUndefined();
    expect(p.logger.entries).toEqual([]);
  });
});

describe('BackendLicenseStep: what a success logs and keeps', () => {
  it('logs the backend\'s message at INFO, marked as coming from the license backend', async () => {
    const backend = new ScriptedTokenBackend();
    const p = stepParts(API_KEY, backend);
    backend.answer(answered(p.token(), 'Your trial ends in 5 days'));

    const license = await p.step.attempt(new ResolutionTrail());

    expect(license).toMatchObject({ source: 'api_key' });
    expect(p.logger.entries).toEqual([{ level: 'info', message: 'Your trial ends in 5 days', fields: { source: 'license_backend' } }]);
  });

  it('says the backend is reachable again, at INFO, after a failure', async () => {
    const backend = new ScriptedTokenBackend(new BackendError('BACKEND.UNREACHABLE', 'connection refused'));
    const p = stepParts(API_KEY, backend);
    await p.step.attempt(new ResolutionTrail());
    p.logger.clear();

    backend.answer(answered(p.token()));
    await p.step.attempt(new ResolutionTrail());

    expect(p.logger.entries).toEqual([{ level: 'info', message: 'License backend reachable again', fields: {} }]);
  });

  it('writes every token it fetched to the cache, one write after another, the last one last', async () => {
    const backend = new ScriptedTokenBackend();
    const p = stepParts(API_KEY, backend);
    const first = p.token({ tier: 'pro' });
    const second = p.token({ tier: 'enterprise' });

    backend.answer(answered(first));
    await p.step.attempt(new ResolutionTrail());
    await p.step.cacheWritesSettled();
    expect([p.cache.jwt, p.cache.saves]).toEqual([first, 1]);

    backend.answer(answered(second));
    await p.step.attempt(new ResolutionTrail());
    await p.step.cacheWritesSettled();
    expect([p.cache.jwt, p.cache.saves]).toEqual([second, 2]);
  });

  it('a cache write that fails is logged at WARN with its code, gated, and does not stop the next one', async () => {
    const backend = new ScriptedTokenBackend();
    const p = stepParts(API_KEY, backend);
    p.cache.failSaveWith = new CacheError('CACHE.IO_FAILED', `could not write /x (EACCES) ${API_KEY}`);
    backend.answer(answered(p.token()));
    await p.step.attempt(new ResolutionTrail());
    await p.step.cacheWritesSettled();

    expect(p.logger.entries).toEqual([
      { level: 'warn', message: `Could not write the license cache: could not write /x (EACCES) ${REDACTED}`, fields: { code: 'CACHE.IO_FAILED' } },
    ]);

    p.cache.failSaveWith = null;
    const next = p.token({ tier: 'pro' });
    backend.answer(answered(next));
    await p.step.attempt(new ResolutionTrail());
    await p.step.cacheWritesSettled();
    expect(p.cache.jwt).toBe(next);
  });
});
