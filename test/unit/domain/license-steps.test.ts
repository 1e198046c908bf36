import { describe, expect, it } from '@jest/globals';
import { CacheError } from '../../../src/domain/model/errors.js';
import { ResolutionTrail } from '../../../src/domain/model/resolution-trail.js';
import { CurrentLicenseSources } from '../../../src/domain/model/license-sources.js';
import { REDACTED, TextGate } from '../../../src/domain/model/safe-text.js';
import { CachedLicenseStep } from '../../../src/domain/resolution/cached-license.step.js';
import { StaticLicenseStep } from '../../../src/domain/resolution/static-license.step.js';
import type { LicenseVerifier } from '../../../src/ports/license-verifier.port.js';
import { FakeLicenseVerifier } from '../../support/fake-license-verifier.js';
import { DAY, FixedClock } from '../../support/fixed-clock.js';
import { InMemoryLicenseCache } from '../../support/in-memory-license-cache.js';
import { InMemoryTrustedTime } from '../../support/in-memory-trusted-time.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { RecordingLogger } from '../../support/recording-logger.js';

const SECRET = 'sk-live-0123456789abcdef';
const INSTANCE_ID = '6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f';

/** A verifier that fails with something no adapter should throw: a plugin's bug. */
const brokenVerifier = (error: Error): LicenseVerifier => ({ verify: async () => Promise.reject(error) });

function parts() {
  const clock = new FixedClock();
  const logger = new RecordingLogger();
  const verifier = new FakeLicenseVerifier(clock, { gracePeriodMs: 14 * DAY, instanceId: INSTANCE_ID });
  const cache = new InMemoryLicenseCache();
  const trustedTime = new InMemoryTrustedTime();
  const gate = new TextGate([SECRET]);
  const token = (overrides: Parameters<typeof aLicenseClaims>[1] = {}) => verifier.issue(aLicenseClaims(clock.now(), overrides));
  return { clock, logger, verifier, cache, trustedTime, gate, token };
}

describe('CachedLicenseStep', () => {
  it('uses a verified cached token and says so at WARN with its tier and expiry', async () => {
    const p = parts();
    const expiresAt = new Date(p.clock.now().getTime() + 30 * DAY);
    p.cache.jwt = p.token({ tier: 'enterprise', expiresAt });
    const trail = new ResolutionTrail();

    const license = await new CachedLicenseStep(p.cache, p.verifier, p.trustedTime, p.logger, p.gate).attempt(trail);

    expect(license).toMatchObject({ tier: 'enterprise', source: 'cache', expiresAt });
    expect(p.logger.entries).toEqual([{ level: 'warn', message: 'Using cached license', fields: { tier: 'enterprise', expires_at: expiresAt } }]);
    expect(trail.attempts()).toEqual([{ source: 'cache', outcome: 'used', code: null, message: null }]);
  });

  it('says where a rejected token was moved', async () => {
    const p = parts();
    p.cache.jwt = 'tampered-token';

    await new CachedLicenseStep(p.cache, p.verifier, p.trustedTime, p.logger, p.gate).attempt(new ResolutionTrail());

    expect(p.logger.entries).toEqual([
      { level: 'warn', message: 'Cached license rejected and moved aside: license token signature does not verify', fields: { moved_to: 'memory:rejected-1' } },
    ]);
  });

  it('moves aside a cached token older than the newest backend token accepted (superseded is a verdict on the token)', async () => {
    const p = parts();
    const cached = p.token({ issuedAt: new Date(p.clock.now().getTime() - 2 * DAY) });
    p.cache.jwt = cached;
    p.trustedTime.newest = new Date(p.clock.now().getTime() - DAY);
    const trail = new ResolutionTrail();

    expect(await new CachedLicenseStep(p.cache, p.verifier, p.trustedTime, p.logger, p.gate).attempt(trail)).toBeNull();

    expect(p.cache.setAsideJwts).toEqual([cached]);
    expect(trail.attempts()).toMatchObject([{ source: 'cache', outcome: 'failed', code: 'LICENSE.SUPERSEDED' }]);
  });

  it('a token it could not move aside is reported with the reason and the failure, gated', async () => {
    const p = parts();
    p.cache.jwt = 'tampered-token';
    p.cache.failSetAsideWith = new CacheError('CACHE.IO_FAILED', `could not rename (EACCES) ${SECRET}`);

    await new CachedLicenseStep(p.cache, p.verifier, p.trustedTime, p.logger, p.gate).attempt(new ResolutionTrail());

    expect(p.logger.entries).toEqual([
      {
        level: 'warn',
        message: `Cached license rejected (license token signature does not verify); could not move it aside: could not rename (EACCES) ${REDACTED}`,
        fields: { code: 'CACHE.IO_FAILED' },
      },
    ]);
  });

  it('keeps a token when verification failed for a reason that is not a verdict on it, logging the unknown error whole', async () => {
    const p = parts();
    const cached = p.token();
    p.cache.jwt = cached;
    const bug = new TypeError('verifier bug');
    const trail = new ResolutionTrail();

    expect(await new CachedLicenseStep(p.cache, brokenVerifier(bug), p.trustedTime, p.logger, p.gate).attempt(trail)).toBeNull();

    expect(p.cache.jwt).toBe(cached);
    expect(p.logger.entries).toEqual([
      { level: 'warn', message: 'Cached license not used (kept, it may verify later): unexpected internal error', fields: { code: 'INTERNAL.UNEXPECTED', err: bug } },
    ]);
    expect(trail.attempts()).toMatchObject([{ source: 'cache', outcome: 'failed', code: 'INTERNAL.UNEXPECTED' }]);
  });

  it('an unreadable cache is absent: the failure is logged with its code and recorded', async () => {
    const p = parts();
    p.cache.failLoadWith = new CacheError('CACHE.TOO_LARGE', 'cache file is too large');
    const trail = new ResolutionTrail();

    expect(await new CachedLicenseStep(p.cache, p.verifier, p.trustedTime, p.logger, p.gate).attempt(trail)).toBeNull();

    expect(p.logger.entries).toEqual([{ level: 'warn', message: 'License cache ignored: cache file is too large', fields: { code: 'CACHE.TOO_LARGE' } }]);
    expect(trail.attempts()).toEqual([{ source: 'cache', outcome: 'failed', code: 'CACHE.TOO_LARGE', message: 'cache file is too large' }]);
  });

  it('no cached token is a skipped step, silently', async () => {
    const p = parts();
    const trail = new ResolutionTrail();

    expect(await new CachedLicenseStep(p.cache, p.verifier, p.trustedTime, p.logger, p.gate).attempt(trail)).toBeNull();

    expect(trail.attempts()).toEqual([{ source: 'cache', outcome: 'skipped', code: null, message: 'no cached license' }]);
    expect(p.logger.entries).toEqual([]);
  });
});

/** The license sources with `jwt` as the configured static license (no installed one, no API key). */
const staticSources = (jwt: string | null) => new CurrentLicenseSources({ staticLicenseJwt: jwt, installedLicenseJwt: null, apiKey: null });

describe('StaticLicenseStep', () => {
  it('uses a static JWT that verifies and records the step as used', async () => {
    const p = parts();
    const trail = new ResolutionTrail();

    const license = await new StaticLicenseStep(staticSources(p.token({ tier: 'pro' })), p.verifier, p.logger, p.gate).attempt(trail);

    expect(license).toMatchObject({ tier: 'pro', source: 'static' });
    expect(trail.attempts()).toEqual([{ source: 'static', outcome: 'used', code: null, message: null }]);
    expect(p.logger.entries).toEqual([]);
  });

  it('a static JWT that does not verify is logged at ERROR with its code and recorded', async () => {
    const p = parts();
    const trail = new ResolutionTrail();

    expect(await new StaticLicenseStep(staticSources('tampered-token'), p.verifier, p.logger, p.gate).attempt(trail)).toBeNull();

    expect(p.logger.entries).toEqual([
      { level: 'error', message: 'Static license rejected: license token signature does not verify', fields: { code: 'LICENSE.SIGNATURE_INVALID' } },
    ]);
    expect(trail.attempts()).toEqual([
      { source: 'static', outcome: 'failed', code: 'LICENSE.SIGNATURE_INVALID', message: 'license token signature does not verify' },
    ]);
  });

  it('an unexpected failure is logged whole, under a generic code', async () => {
    const p = parts();
    const bug = new RangeError('plugin bug');

    await new StaticLicenseStep(staticSources('any'), brokenVerifier(bug), p.logger, p.gate).attempt(new ResolutionTrail());

    expect(p.logger.entries).toEqual([{ level: 'error', message: 'Static license rejected: unexpected internal error', fields: { code: 'INTERNAL.UNEXPECTED', err: bug } }]);
  });

  it('no static JWT is a skipped step', async () => {
    const p = parts();
    const trail = new ResolutionTrail();

    expect(await new StaticLicenseStep(staticSources(null), p.verifier, p.logger, p.gate).attempt(trail)).toBeNull();

    expect(trail.attempts()).toEqual([{ source: 'static', outcome: 'skipped', code: null, message: 'no static license configured' }]);
  });
});
