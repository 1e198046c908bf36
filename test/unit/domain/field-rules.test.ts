import { beforeEach, describe, expect, it } from '@jest/globals';
import { ExpireLicense } from '../../../src/domain/expiry/expire-license.js';
import { effectiveGracePeriodMs } from '../../../src/domain/model/grace.js';
import { DAY } from '../../support/fixed-clock.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { API_KEY, GRACE_PERIOD_MS, resolutionHarness } from '../../support/resolution-harness.js';
import { issued } from '../../support/scripted-token-backend.js';

/** Issue 9's rules for time, grace and the cache, on hand-written fakes. */
describe('field rules', () => {
  let h: ReturnType<typeof resolutionHarness>;
  beforeEach(() => {
    h = resolutionHarness();
  });
  const at = (offsetMs: number) => new Date(h.clock.now().getTime() + offsetMs);
  const token = (overrides: Parameters<typeof aLicenseClaims>[1] = {}) => h.verifier.issue(aLicenseClaims(h.clock.now(), overrides));
  const outcomes = () => h.state.current().resolution.map((a) => `${a.source}:${a.outcome}${a.code ? `:${a.code}` : ''}`);

  describe('never an older token (LICENSE.SUPERSEDED)', () => {
    it('refuses a backend answer issued before the newest backend token accepted, keeping the license in force', async () => {
      const resolve = h.build({ apiKey: API_KEY });
      h.backend.answer(issued(token({ tier: 'enterprise', issuedAt: at(-HOUR) })));
      await resolve.execute();
      h.backend.answer(issued(token({ tier: 'pro', issuedAt: at(-2 * HOUR) }))); // a stale replica

      const { snapshot, backendFailure } = await resolve.execute();

      expect(backendFailure?.code).toBe('LICENSE.SUPERSEDED');
      expect(snapshot.license.tier).toBe('enterprise');
      expect(h.logger.at('warn')).toContainEqual(expect.stringMatching(/^License backend answered with an older license than the one already accepted: /));
    });

    it('accepts the same token again and a newer one', async () => {
      const resolve = h.build({ apiKey: API_KEY });
      const first = token({ tier: 'pro', issuedAt: at(-HOUR) });
      h.backend.answer(issued(first));
      await resolve.execute();
      h.backend.answer(issued(first));
      expect((await resolve.execute()).backendFailure).toBeNull();
      h.backend.answer(issued(token({ tier: 'enterprise', issuedAt: at(0) })));
      expect((await resolve.execute()).snapshot.license.tier).toBe('enterprise');
    });

    it('moves a restored older cache file aside instead of bringing back its tier', async () => {
      h.trustedTime.newest = at(-HOUR);
      const old = token({ tier: 'enterprise', issuedAt: at(-DAY) });
      h.cache.jwt = old;

      const { snapshot } = await h.build().execute();

      expect(snapshot.license.source).toBe('community');
      expect(outcomes()).toContain('cache:failed:LICENSE.SUPERSEDED');
      expect(h.cache.setAsideJwts).toEqual([old]);
    });

    it('exempts a static JWT, the operator\'s explicit choice, and does not let it raise the bar', async () => {
      h.trustedTime.newest = at(-HOUR);
      const { snapshot } = await h.build({ staticJwt: token({ issuedAt: at(-DAY) }) }).execute();

      expect(snapshot.license.source).toBe('static');
      expect(h.trustedTime.acceptedTokens).toEqual([{ issuedAt: at(-DAY), fromBackend: false }]);
    });
  });

  describe('the cache write never holds the license hostage', () => {
    it('installs a new license while the disk stalls, and the next refresh is not held up either', async () => {
      let unstall: () => void = () => undefined;
      h.cache.stallSavesUntil = new Promise<void>((resolve) => {
        unstall = resolve;
      });
      const resolve = h.build({ apiKey: API_KEY });
      h.backend.answer(issued(token({ tier: 'pro', issuedAt: at(-2 * HOUR) })));
      expect((await resolve.execute()).snapshot.license.tier).toBe('pro');
      h.backend.answer(issued(token({ tier: 'enterprise', issuedAt: at(-HOUR) })));
      expect((await resolve.execute()).snapshot.license.tier).toBe('enterprise');
      const third = token({ tier: 'enterprise', issuedAt: at(0) });
      h.backend.answer(issued(third));
      await resolve.execute();

      unstall();
      await resolve.cacheWritesSettled();

      // The first write was under way; of the two asked for meanwhile only the newest is written.
      expect(h.cache.saves).toBe(2);
      expect(h.cache.jwt).toBe(third);
    });
  });

  describe('the vendor bounds the grace period', () => {
    it.each([
      ['the operator setting when shorter', { gracePeriodDays: 30, trial: false }, 7 * DAY, 7 * DAY],
      ['grace_period_days when shorter than the setting', { gracePeriodDays: 3, trial: false }, 14 * DAY, 3 * DAY],
      ['14 days without the claim, even with a century asked for', { gracePeriodDays: null, trial: false }, 36_500 * DAY, 14 * DAY],
      ['0 days for a trial without the claim', { gracePeriodDays: null, trial: true }, 14 * DAY, 0],
      ['the claim for a trial that has one', { gracePeriodDays: 5, trial: true }, 14 * DAY, 5 * DAY],
      ['0 days when the claim says 0', { gracePeriodDays: 0, trial: false }, 14 * DAY, 0],
    ])('is %s', (_case, claims, operatorMs, expectedMs) => {
      expect(effectiveGracePeriodMs(claims, operatorMs)).toBe(expectedMs);
    });

    it('refuses a license past its own grace even when the operator asks for more, and clamps with one WARN', async () => {
      const resolve = h.build({ staticJwt: token({ gracePeriodDays: 2, expiresAt: at(-3 * DAY), issuedAt: at(-30 * DAY) }) });
      await resolve.execute();
      expect(h.state.current().license.source).toBe('community');

      const h2 = resolutionHarness();
      const within = h2.verifier.issue(aLicenseClaims(h2.clock.now(), { gracePeriodDays: 2, expiresAt: new Date(h2.clock.now().getTime() - DAY) }));
      const resolve2 = h2.build({ staticJwt: within });
      await resolve2.execute();
      await resolve2.execute();
      expect(h2.state.current().license).toMatchObject({ source: 'static', gracePeriodMs: 2 * DAY });
      expect(h2.logger.at('warn').filter((line) => line.startsWith('Grace period clamped to 2 days by the license'))).toHaveLength(1);
    });
  });

  describe('expiry is judged wherever the license is read', () => {
    it('a reader after a clock jump past the end of grace sees Community, degraded, with one WARN', async () => {
      h.backend.answer(issued(token({ tier: 'pro', expiresAt: at(DAY) })));
      await h.build({ apiKey: API_KEY }).execute();
      const expire = new ExpireLicense(h.state, h.clock, h.logger);
      h.clock.advance(DAY + GRACE_PERIOD_MS + 1); // no timer has fired

      expect(expire.current()).toMatchObject({ degraded: true, license: { tier: 'community' } });
      expect(expire.current().license.tier).toBe('community');
      expect(h.logger.at('warn').filter((line) => line === 'License expired — running in Community mode')).toHaveLength(1);
    });

    it('leaves a license in grace in force', async () => {
      h.backend.answer(issued(token({ tier: 'pro', expiresAt: at(DAY) })));
      await h.build({ apiKey: API_KEY }).execute();
      h.clock.advance(DAY + GRACE_PERIOD_MS);

      expect(new ExpireLicense(h.state, h.clock, h.logger).current().license.tier).toBe('pro');
    });
  });
});

const HOUR = 3_600_000;
