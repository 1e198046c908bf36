import { describe, expect, it } from '@jest/globals';
import { ExpireLicense } from '../../../src/domain/expiry/expire-license.js';
import type { Clock } from '../../../src/ports/clock.port.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { DAY } from '../../support/fixed-clock.js';
import { API_KEY, GRACE_PERIOD_MS, resolutionHarness } from '../../support/resolution-harness.js';
import { issued } from '../../support/scripted-token-backend.js';

describe('ExpireLicense', () => {
  async function withProExpiringIn(days: number) {
    const h = resolutionHarness();
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { tier: 'pro', expiresAt: new Date(h.clock.now().getTime() + days * DAY) }))));
    await h.build({ apiKey: API_KEY }).execute();
    h.logger.clear();
    return { ...h, expire: new ExpireLicense(h.state, h.clock, h.logger) };
  }

  it('does nothing while the license is valid or in grace', async () => {
    const h = await withProExpiringIn(1);
    h.clock.advance(1 * DAY + GRACE_PERIOD_MS);
    expect(h.expire.execute()).toBe(false);
    expect(h.state.current().license.tier).toBe('pro');
  });

  it('switches to Community past the grace period, degraded, with a WARN', async () => {
    const h = await withProExpiringIn(1);
    h.clock.advance(1 * DAY + GRACE_PERIOD_MS + 1);
    expect(h.expire.execute()).toBe(true);

    expect(h.state.current()).toMatchObject({ degraded: true, license: { tier: 'community', source: 'community' } });
    expect(h.state.current().resolution).toEqual([
      expect.objectContaining({ source: 'api_key', outcome: 'failed', code: 'LICENSE.EXPIRED' }),
      expect.objectContaining({ source: 'community', outcome: 'used' }),
    ]);
    expect(h.logger.at('warn')).toEqual(['License expired — running in Community mode']);
    expect(h.logger.at('info')).toEqual(['License downgraded from Pro to Community']);
  });

  it('leaves Community alone', () => {
    const h = resolutionHarness();
    expect(new ExpireLicense(h.state, h.clock, h.logger).execute()).toBe(false);
  });

  it('logs the expiry with the instant and the tier lost, and the downgrade with where Community came from', async () => {
    const h = await withProExpiringIn(1);
    const expiresAt = h.state.current().license.expiresAt;
    h.clock.advance(1 * DAY + GRACE_PERIOD_MS + 1);
    h.expire.execute();

    expect(h.logger.entries).toEqual([
      { level: 'warn', message: 'License expired — running in Community mode', fields: { expired_at: expiresAt, tier: 'pro' } },
      { level: 'info', message: 'License downgraded from Pro to Community', fields: { tier: 'community', source: 'community' } },
    ]);
  });

  describe('current(): expiry judged wherever the license is read', () => {
    /** The harness's clock, counting how often it is read. */
    function counting(clock: Clock) {
      const counted = { reads: 0, now: () => ((counted.reads += 1), clock.now()) };
      return counted;
    }

    it('the reader after a clock jump past grace already sees Community, degraded, with no timer having fired', async () => {
      const h = await withProExpiringIn(1);
      h.clock.advance(1 * DAY + GRACE_PERIOD_MS);
      expect(h.expire.current().license.tier).toBe('pro'); // the last instant of grace is honoured
      h.clock.advance(1);

      expect(h.expire.current()).toMatchObject({ degraded: true, license: { tier: 'community' } });
      expect(h.logger.at('warn')).toEqual(['License expired — running in Community mode']);
    });

    it('judges by the instant the caller gives, and reads no clock while the license is valid (one comparison per request)', async () => {
      const h = await withProExpiringIn(1);
      const clock = counting(h.clock);
      const expire = new ExpireLicense(h.state, clock, h.logger);
      const graceEndsAtMs = h.state.current().license.graceEndsAtMs;
      h.clock.advance(1 * DAY + GRACE_PERIOD_MS + 1); // the clock is past grace; the request's instant is not

      expect(expire.current(graceEndsAtMs).license.tier).toBe('pro');
      expect(clock.reads).toBe(0);
      expect(h.logger.entries).toEqual([]);

      expect(expire.current(graceEndsAtMs + 1).license.tier).toBe('community');
    });

    it('Community is returned as it is', () => {
      const h = resolutionHarness();
      const clock = counting(h.clock);
      const before = h.state.current();

      expect(new ExpireLicense(h.state, clock, h.logger).current()).toBe(before);
      expect(clock.reads).toBe(0);
    });
  });
});
