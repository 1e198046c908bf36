import { beforeEach, describe, expect, it } from '@jest/globals';
import { BackendError, CacheError } from '../../../src/domain/model/errors.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { DAY } from '../../support/fixed-clock.js';
import { API_KEY, resolutionHarness } from '../../support/resolution-harness.js';
import { issued } from '../../support/scripted-token-backend.js';

describe('ResolveLicense', () => {
  let h: ReturnType<typeof resolutionHarness>;
  beforeEach(() => {
    h = resolutionHarness();
  });

  const token = (overrides: Parameters<typeof aLicenseClaims>[1] = {}) => h.verifier.issue(aLicenseClaims(h.clock.now(), overrides));
  const outcomes = () => h.state.current().resolution.map((a) => `${a.source}:${a.outcome}${a.code ? `:${a.code}` : ''}`);

  describe('static JWT', () => {
    it('wins over the API key: the backend is not called and nothing is cached', async () => {
      const jwt = token({ tier: 'enterprise' });
      const { snapshot } = await h.build({ staticJwt: jwt, apiKey: API_KEY }).execute();

      expect(snapshot.license).toMatchObject({ tier: 'enterprise', source: 'static', licenseId: 'lic-0001' });
      expect(h.backend.requests).toHaveLength(0);
      expect(h.cache.saves).toBe(0);
      expect(outcomes()).toEqual(['static:used']);
    });

    it('is still used within the grace period, with a grace warning', async () => {
      const jwt = token({ expiresAt: new Date(h.clock.now().getTime() - 3 * DAY), issuedAt: new Date(h.clock.now().getTime() - 30 * DAY) });
      const { snapshot } = await h.build({ staticJwt: jwt }).execute();

      expect(snapshot.license.source).toBe('static');
      expect(h.logger.at('warn').some((m) => /expired on .*early grace period/.test(m))).toBe(true);
    });

    it('past the grace period is logged and resolution falls through to Community', async () => {
      const jwt = token({ expiresAt: new Date(h.clock.now().getTime() - 15 * DAY), issuedAt: new Date(h.clock.now().getTime() - 60 * DAY) });
      const { snapshot } = await h.build({ staticJwt: jwt }).execute();

      expect(snapshot.license.source).toBe('community');
      expect(h.logger.at('error')).toEqual([
        expect.stringMatching(/^Static license rejected: license token expired on/),
        'License expired or invalid — running in Community mode',
      ]);
      expect(h.logger.at('info')).not.toContain('Running in Community mode');
      expect(outcomes()).toEqual(['static:failed:LICENSE.EXPIRED', 'api_key:skipped', 'cache:skipped', 'community:used']);
    });

    it('that does not verify, with no API key and no cache, falls back with the original product\'s ERROR', async () => {
      const { snapshot } = await h.build({ staticJwt: 'not-a-token' }).execute();

      expect(snapshot.license.source).toBe('community');
      expect(h.logger.at('error')).toEqual([
        expect.stringMatching(/^Static license rejected: /),
        'License expired or invalid — running in Community mode',
      ]);
    });

    it('that does not verify, with a cached license to fall back on, says nothing about Community', async () => {
      h.cache.jwt = token({ tier: 'pro' });
      const { snapshot } = await h.build({ staticJwt: 'not-a-token' }).execute();

      expect(snapshot.license.source).toBe('cache');
      expect(h.logger.messages().filter((message) => message.includes('Community mode'))).toEqual([]);
    });

    it('that does not verify, with an API key that fails too, falls back with the API key\'s ERROR only', async () => {
      h.backend.answer(new BackendError('BACKEND.UNREACHABLE', 'license backend at 127.0.0.1:1 is unreachable (connection refused)'));
      await h.build({ staticJwt: 'not-a-token', apiKey: API_KEY }).execute();

      expect(h.logger.at('error')).toContain('Could not fetch license — falling back to Community mode');
      expect(h.logger.at('error')).not.toContain('License expired or invalid — running in Community mode');
    });

    it('that does not verify falls through to the API key', async () => {
      h.backend.answer(issued(token()));
      const { snapshot } = await h.build({ staticJwt: 'not-a-token', apiKey: API_KEY }).execute();

      expect(snapshot.license.source).toBe('api_key');
      expect(outcomes()).toEqual(['static:failed:LICENSE.SIGNATURE_INVALID', 'api_key:used']);
    });
  });

  describe('API key', () => {
    it('fetches, verifies, keeps and caches the license, sending the instance id and version', async () => {
      const jwt = token({ tier: 'pro', quotas: { max_result_rows: 2_000_000 } });
      h.backend.answer(issued(jwt));
      const resolve = h.build({ apiKey: API_KEY });
      const { snapshot } = await resolve.execute();
      await resolve.cacheWritesSettled();

      expect(snapshot.license).toMatchObject({ tier: 'pro', source: 'api_key' });
      expect(snapshot.license.quotas.max_result_rows).toBe(2_000_000);
      expect(snapshot.license.quotas.max_joins).toBe(5);
      expect(h.cache.jwt).toBe(jwt);
      expect(h.backend.requests).toEqual([{ apiKey: API_KEY, instanceId: expect.any(String), agentVersion: '9.9.9' }]);
    });

    it('takes "expires_in" as advisory: more than 60 s away from the token\'s own lifetime is a DEBUG line, and the signed exp rules', async () => {
      const expiresAt = new Date(h.clock.now().getTime() + DAY);
      const jwt = token({ issuedAt: h.clock.now(), expiresAt }); // a lifetime of 86 400 s
      const DISAGREES = 'License backend "expires_in" disagrees with the token\'s own lifetime; "exp" rules';
      const disagreements = () => h.logger.entries.filter((entry) => entry.message === DISAGREES);

      for (const expiresInSeconds of [null, 86_400 + 60, 86_400 - 60]) {
        h.backend.answer({ ...issued(jwt), expiresInSeconds });
        await h.build({ apiKey: API_KEY }).execute();
      }
      expect(disagreements()).toEqual([]);

      for (const expiresInSeconds of [86_400 + 61, 86_400 - 61]) {
        h.backend.answer({ ...issued(jwt), expiresInSeconds });
        const { snapshot } = await h.build({ apiKey: API_KEY }).execute();
        expect(snapshot.license.expiresAt).toEqual(expiresAt);
      }
      expect(disagreements()).toEqual([
        { level: 'debug', message: DISAGREES, fields: { expires_in: 86_461, token_lifetime_seconds: 86_400 } },
        { level: 'debug', message: DISAGREES, fields: { expires_in: 86_339, token_lifetime_seconds: 86_400 } },
      ]);
    });

    it('logs a backend message at INFO', async () => {
      h.backend.answer(issued(token(), 'Your trial ends in 5 days'));
      await h.build({ apiKey: API_KEY }).execute();
      expect(h.logger.at('info')).toContain('Your trial ends in 5 days');
    });

    it('never caches a fetched JWT that fails verification, and logs it at ERROR', async () => {
      h.backend.answer(issued('forged-token'));
      const { snapshot } = await h.build({ apiKey: API_KEY }).execute();

      expect(h.cache.saves).toBe(0);
      expect(h.logger.at('error')[0]).toMatch(/^License issued by the backend failed verification/);
      expect(snapshot.license.source).toBe('community');
    });

    it('reports a malformed key without calling the backend', async () => {
      const { snapshot } = await h.build({ apiKey: 'pk-live-123' }).execute();

      expect(h.backend.requests).toHaveLength(0);
      expect(h.logger.at('error')).toContain('API key is malformed: expected "sk-" followed by printable characters without spaces');
      expect(h.logger.messages().join('\n')).not.toContain('pk-live-123');
      expect(snapshot.license.source).toBe('community');
    });

    it('reports a malformed key as a permanent failure: no retry can fix it', async () => {
      const result = await h.build({ apiKey: 'pk-live-123' }).execute();

      expect(result.backendFailedPermanently).toBe(true);
    });

    it('reports an unreachable backend as a failure a retry may fix', async () => {
      h.backend.answer(new BackendError('BACKEND.UNREACHABLE', 'unreachable'));
      const result = await h.build({ apiKey: API_KEY }).execute();

      expect(result.backendFailedPermanently).toBe(false);
    });

    it('says the Community fallback at its level once while it lasts, at DEBUG on every retry, and again after a license was in force', async () => {
      h.backend.answer(new BackendError('BACKEND.UNREACHABLE', 'unreachable'));
      const resolve = h.build({ apiKey: API_KEY });
      await resolve.execute();
      await resolve.execute();
      await resolve.execute();
      const fallback = 'Could not fetch license — falling back to Community mode';
      expect(h.logger.at('error').filter((m) => m === fallback)).toHaveLength(1);
      expect(h.logger.at('debug').filter((m) => m === fallback)).toHaveLength(2);

      h.backend.answer(issued(token({ tier: 'pro' })));
      expect((await resolve.execute()).snapshot.license.tier).toBe('pro');
      await resolve.cacheWritesSettled();
      h.cache.jwt = null; // nothing to fall back on
      h.backend.answer(new BackendError('BACKEND.REJECTED', 'revoked', { status: 401 }));
      await resolve.execute();
      expect(h.logger.at('error').filter((m) => m === fallback)).toHaveLength(2);
    });

    it('on 401 logs the backend message at ERROR and falls through to the cache', async () => {
      h.cache.jwt = token({ tier: 'pro' });
      h.backend.answer(new BackendError('BACKEND.REJECTED', 'API key revoked by the administrator', { status: 401 }));
      const { snapshot } = await h.build({ apiKey: API_KEY }).execute();

      expect(h.logger.at('error')).toContain('License backend rejected the API key (HTTP 401): API key revoked by the administrator');
      expect(h.logger.at('warn')).toContain('Using cached license');
      expect(snapshot.license.source).toBe('cache');
      expect(outcomes()).toEqual(['static:skipped', 'api_key:failed:BACKEND.REJECTED', 'cache:used']);
    });

    it('on a network failure logs a WARN and falls through to the cache, then Community with an ERROR', async () => {
      h.backend.answer(new BackendError('BACKEND.UNREACHABLE', 'license backend at 127.0.0.1:1 is unreachable (connection refused)'));
      const { snapshot } = await h.build({ apiKey: API_KEY }).execute();

      expect(h.logger.at('warn')[0]).toMatch(/^License backend request failed: .*connection refused/);
      expect(h.logger.at('error')).toContain('Could not fetch license — falling back to Community mode');
      expect(h.logger.at('info')).not.toContain('Running in Community mode');
      expect(snapshot.license.source).toBe('community');
      expect(snapshot.degraded).toBe(false);
    });

    it('still resolves when the cache cannot be written', async () => {
      h.cache.failSaveWith = new CacheError('CACHE.IO_FAILED', 'could not write /x (EACCES)');
      h.backend.answer(issued(token()));
      const resolve = h.build({ apiKey: API_KEY });
      const { snapshot } = await resolve.execute();
      await resolve.cacheWritesSettled();

      expect(snapshot.license.source).toBe('api_key');
      expect(h.logger.at('warn')).toContain('Could not write the license cache: could not write /x (EACCES)');
    });
  });

  describe('disk cache', () => {
    it('is used without an API key, with a WARN', async () => {
      h.cache.jwt = token({ tier: 'enterprise' });
      const { snapshot } = await h.build().execute();

      expect(snapshot.license).toMatchObject({ tier: 'enterprise', source: 'cache' });
      expect(h.logger.at('warn')).toContain('Using cached license');
    });

    it.each([
      ['bound to another instance', () => token({ instanceId: '00000000-0000-4000-8000-000000000000' }), 'LICENSE.INSTANCE_MISMATCH'],
      ['with a bad signature', () => 'tampered-token', 'LICENSE.SIGNATURE_INVALID'],
    ])('moves a cached token %s aside (a verdict on the token itself) and falls through', async (_case, cachedToken, code) => {
      const cached = cachedToken();
      h.cache.jwt = cached;
      const { snapshot } = await h.build().execute();

      expect(h.cache.jwt).toBeNull();
      expect(h.cache.setAsideJwts).toEqual([cached]);
      expect(h.logger.at('warn')).toContainEqual(expect.stringMatching(/^Cached license rejected and moved aside: /));
      expect(snapshot.license.source).toBe('community');
      expect(outcomes()).toContain(`cache:failed:${code}`);
    });

    it.each([
      // One start with the clock 48 h behind must not destroy the only offline copy (issue 9, §4).
      ['not yet valid (the clock is behind)', () => token({ issuedAt: new Date(h.clock.now().getTime() + 2 * DAY) }), 'LICENSE.NOT_YET_VALID'],
      ['expired past grace (by this clock)', () => token({ expiresAt: new Date(h.clock.now().getTime() - 20 * DAY), issuedAt: new Date(h.clock.now().getTime() - 90 * DAY) }), 'LICENSE.EXPIRED'],
    ])('keeps a cached token %s in place, unused, and falls through', async (_case, cachedToken, code) => {
      const cached = cachedToken();
      h.cache.jwt = cached;
      const { snapshot } = await h.build().execute();

      expect(h.cache.jwt).toBe(cached);
      expect(h.cache.setAsideJwts).toEqual([]);
      expect(h.logger.at('warn')).toContainEqual(expect.stringMatching(/^Cached license not used \(kept, it may verify later\): /));
      expect(snapshot.license.source).toBe('community');
      expect(outcomes()).toContain(`cache:failed:${code}`);
    });

    it('uses a cached token kept while the clock was behind once the clock is right again', async () => {
      const realNow = h.clock.now().getTime();
      h.cache.jwt = token({ issuedAt: new Date(realNow - DAY), expiresAt: new Date(realNow + 30 * DAY) });
      h.clock.set(new Date(realNow - 2 * DAY));
      await h.build().execute();
      h.clock.set(new Date(realNow));

      const { snapshot } = await h.build().execute();

      expect(snapshot.license.source).toBe('cache');
    });

    it('treats an unreadable cache as absent with a WARN', async () => {
      h.cache.failLoadWith = new CacheError('CACHE.CORRUPT', '/c/license-cache.json is corrupt: not valid UTF-8 JSON');
      const { snapshot } = await h.build().execute();

      expect(snapshot.license.source).toBe('community');
      expect(h.logger.at('warn')).toContain('License cache ignored: /c/license-cache.json is corrupt: not valid UTF-8 JSON');
      expect(outcomes()).toContain('cache:failed:CACHE.CORRUPT');
    });
  });

  describe('tier changes', () => {
    it('logs the cold start as an upgrade from Community', async () => {
      h.backend.answer(issued(token({ tier: 'pro' })));
      await h.build({ apiKey: API_KEY }).execute();
      expect(h.logger.at('info')).toContain('License upgraded from Community to Pro');
    });

    it('logs nothing when the tier stays the same', async () => {
      h.backend.answer(issued(token({ tier: 'pro' })));
      const resolve = h.build({ apiKey: API_KEY });
      await resolve.execute();
      h.logger.clear();
      h.backend.answer(issued(token({ tier: 'pro' })));
      await resolve.execute();
      expect(h.logger.entries.filter((e) => e.level !== 'debug' && e.message.startsWith('License '))).toEqual([]);
    });

    it('logs a downgrade the backend decided, without degrading', async () => {
      const resolve = h.build({ apiKey: API_KEY });
      h.backend.answer(issued(token({ tier: 'enterprise' })));
      await resolve.execute();
      h.backend.answer(issued(token({ tier: 'pro' })));
      const { snapshot } = await resolve.execute();

      expect(h.logger.at('info')).toContain('License downgraded from Enterprise to Pro');
      expect(snapshot.degraded).toBe(false);
    });

    it('degrades on a rejection without cache, then logs the restoration', async () => {
      const resolve = h.build({ apiKey: API_KEY });
      h.backend.answer(issued(token({ tier: 'pro' })));
      await resolve.execute();
      h.cache.jwt = null;

      h.backend.answer(new BackendError('BACKEND.REJECTED', 'subscription cancelled', { status: 401 }));
      const lost = await resolve.execute();
      expect(lost.snapshot).toMatchObject({ degraded: true, license: { tier: 'community' } });
      expect(h.logger.at('info')).toContain('License downgraded from Pro to Community');

      h.backend.answer(issued(token({ tier: 'pro' })));
      const back = await resolve.execute();
      expect(back.snapshot.degraded).toBe(false);
      expect(h.logger.at('info')).toContain('License restored to Pro');
    });
  });

  describe('transient backend failures', () => {
    it('keep a license in force that is still valid, untouched', async () => {
      const resolve = h.build({ apiKey: API_KEY });
      h.backend.answer(issued(token({ tier: 'enterprise' })));
      const first = await resolve.execute();
      h.cache.jwt = token({ tier: 'pro' }); // would downgrade if consulted

      h.backend.answer(new BackendError('BACKEND.HTTP_STATUS', 'license backend answered HTTP 503', { status: 503 }));
      const second = await resolve.execute();

      expect(second.replaced).toBe(false);
      expect(second.snapshot).toBe(first.snapshot);
      expect(second.backendFailure).toMatchObject({ code: 'BACKEND.HTTP_STATUS' });
    });

    it('do not keep a license whose grace period has ended', async () => {
      const resolve = h.build({ apiKey: API_KEY });
      h.backend.answer(issued(token({ tier: 'pro', expiresAt: new Date(h.clock.now().getTime() + DAY) })));
      await resolve.execute();
      h.cache.jwt = null;
      h.clock.advance(16 * DAY);

      h.backend.answer(new BackendError('BACKEND.TIMEOUT', 'license backend did not answer'));
      const { snapshot, replaced } = await resolve.execute();

      expect(replaced).toBe(true);
      expect(snapshot).toMatchObject({ degraded: true, license: { tier: 'community' } });
    });
  });

  describe('what a resolution reports and records', () => {
    it('keeps a license through a transient failure up to the last instant of its grace, and no longer', async () => {
      const resolve = h.build({ apiKey: API_KEY });
      h.backend.answer(issued(token({ tier: 'pro', expiresAt: new Date(h.clock.now().getTime() + DAY) })));
      const first = await resolve.execute();
      h.clock.set(new Date(first.snapshot.license.graceEndsAtMs));

      h.backend.answer(new BackendError('BACKEND.TIMEOUT', 'license backend did not answer', { retryAfterMs: 7_000 }));
      const kept = await resolve.execute();
      expect(kept).toMatchObject({ replaced: false, retryAfterMs: 7_000 });
      expect(kept.snapshot).toBe(first.snapshot);
      expect(kept.attempts.map((a) => `${a.source}:${a.outcome}`)).toEqual(['static:skipped', 'api_key:failed']);

      h.clock.advance(1);
      h.backend.answer(new BackendError('BACKEND.TIMEOUT', 'license backend did not answer'));
      expect((await resolve.execute()).snapshot.license.tier).toBe('community');
    });

    it('Community in force is not "kept": a transient failure walks on to the cache', async () => {
      h.cache.jwt = token({ tier: 'pro' });
      h.backend.answer(new BackendError('BACKEND.TIMEOUT', 'license backend did not answer'));
      const { snapshot, replaced } = await h.build({ apiKey: API_KEY }).execute();

      expect(replaced).toBe(true);
      expect(snapshot.license.source).toBe('cache');
    });

    it('records the issue time of a backend token as backend-issued, and logs the tier change with tier and source', async () => {
      const issuedAt = new Date(h.clock.now().getTime() - 2 * DAY);
      h.backend.answer(issued(token({ tier: 'enterprise', issuedAt })));
      const result = await h.build({ apiKey: API_KEY }).execute();

      expect(result).toMatchObject({ replaced: true, backendFailure: null, retryAfterMs: null });
      expect(h.trustedTime.acceptedTokens).toEqual([{ issuedAt, fromBackend: true }]);
      expect(h.logger.entries).toContainEqual({
        level: 'info',
        message: 'License upgraded from Community to Enterprise',
        fields: { tier: 'enterprise', source: 'api_key' },
      });
    });

    it('records nothing in trusted time for Community', async () => {
      await h.build().execute();
      expect(h.trustedTime.acceptedTokens).toEqual([]);
    });

    it('says the grace period was clamped with both figures, once; a license granting as much as asked is not clamped', async () => {
      const resolve = h.build({ apiKey: API_KEY });
      h.backend.answer(issued(token({ gracePeriodDays: 3 })));
      await resolve.execute();
      h.backend.answer(issued(token({ gracePeriodDays: 3 })));
      await resolve.execute();
      const clamped = h.logger.entries.filter((entry) => entry.message.startsWith('Grace period clamped'));
      expect(clamped).toEqual([
        {
          level: 'warn',
          message: 'Grace period clamped to 3 days by the license (SOFTCLIENT4ES_LICENSE_GRACE_PERIOD asks for 14)',
          fields: { grace_period_days: 3 },
        },
      ]);

      const h2 = resolutionHarness();
      h2.backend.answer(issued(h2.verifier.issue(aLicenseClaims(h2.clock.now(), { gracePeriodDays: 14 }))));
      await h2.build({ apiKey: API_KEY }).execute();
      expect(h2.logger.at('warn').filter((line) => line.startsWith('Grace period clamped'))).toEqual([]);
    });
  });

  it('the snapshot in force is frozen', async () => {
    h.backend.answer(issued(token()));
    const { snapshot } = await h.build({ apiKey: API_KEY }).execute();
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(Object.isFrozen(snapshot.license)).toBe(true);
    expect(Object.isFrozen(snapshot.license.quotas)).toBe(true);
    expect(Object.isFrozen(snapshot.resolution)).toBe(true);
  });
});

describe('ResolveLicense: the Community fallback line and what a resolution reports', () => {
  let h: ReturnType<typeof resolutionHarness>;
  beforeEach(() => {
    h = resolutionHarness();
  });

  it('nothing configured: INFO "Running in Community mode", nothing else', async () => {
    await h.build().execute();
    expect(h.logger.entries).toEqual([{ level: 'info', message: 'Running in Community mode', fields: {} }]);
  });

  it('nothing configured but an unreadable cache: still INFO, since no configured license failed', async () => {
    h.cache.failLoadWith = new CacheError('CACHE.CORRUPT', 'cache file is corrupt');
    await h.build().execute();
    expect(h.logger.entries.filter((entry) => entry.message.includes('Community'))).toEqual([{ level: 'info', message: 'Running in Community mode', fields: {} }]);
  });

  it('says nothing of a clamped grace period for Community, which has no token', async () => {
    await h.build().execute();
    expect(h.logger.at('warn')).toEqual([]);
  });

  it('a resolution in which the backend did not fail is not a permanent failure', async () => {
    expect((await h.build().execute()).backendFailedPermanently).toBe(false); // no API key
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now()))));
    expect((await h.build({ apiKey: API_KEY }).execute()).backendFailedPermanently).toBe(false);
  });
});
