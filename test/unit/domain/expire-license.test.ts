import { describe, expect, it } from '@jest/globals';
import { ExpireLicense } from '../../../src/domain/expiry/expire-license.js';
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
});
