import { describe, expect, it, jest } from '@jest/globals';
import { ExpiryWatch } from '../../../src/app/expiry-watch.js';
import { ExpireLicense } from '../../../src/domain/expiry/expire-license.js';
import { DAY } from '../../support/fixed-clock.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { ManualTimers } from '../../support/manual-timers.js';
import { API_KEY, GRACE_PERIOD_MS, resolutionHarness } from '../../support/resolution-harness.js';
import { issued } from '../../support/scripted-token-backend.js';

async function setUp() {
  const h = resolutionHarness();
  const timers = new ManualTimers(h.clock);
  const onExpired = jest.fn();
  const watch = new ExpiryWatch(h.state, new ExpireLicense(h.state, h.clock, h.logger), h.clock, timers, onExpired);
  const resolve = h.build({ apiKey: API_KEY });
  const installPro = async (expiresInMs: number) => {
    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { expiresAt: new Date(h.clock.now().getTime() + expiresInMs) }))));
    await resolve.execute();
  };
  watch.start();
  return { ...h, timers, watch, onExpired, installPro };
}

describe('ExpiryWatch', () => {
  it('switches to Community right after the grace period ends, degraded, and asks for a refresh', async () => {
    const s = await setUp();
    await s.installPro(DAY);
    expect(s.timers.nextDelay()).toBe(DAY + GRACE_PERIOD_MS + 1);

    await s.timers.advance(DAY + GRACE_PERIOD_MS);
    expect(s.state.current().license.tier).toBe('pro'); // last instant of grace still honoured
    await s.timers.advance(1);

    expect(s.state.current()).toMatchObject({ degraded: true, license: { tier: 'community' } });
    expect(s.logger.at('warn')).toContain('License expired — running in Community mode');
    expect(s.onExpired).toHaveBeenCalledTimes(1);
    expect(s.timers.pending).toBe(0);
  });

  it('follows the license in force: a renewed token moves the deadline', async () => {
    const s = await setUp();
    await s.installPro(DAY);
    await s.installPro(30 * DAY);
    expect(s.timers.pending).toBe(1);
    expect(s.timers.nextDelay()).toBe(30 * DAY + GRACE_PERIOD_MS + 1);
  });

  it('restoration after expiry is logged as such', async () => {
    const s = await setUp();
    await s.installPro(DAY);
    await s.timers.advance(DAY + GRACE_PERIOD_MS + 1);
    await s.installPro(365 * DAY);
    expect(s.logger.at('info')).toContain('License restored to Pro');
    expect(s.state.current().degraded).toBe(false);
  });

  it('stops: no timer left', async () => {
    const s = await setUp();
    await s.installPro(DAY);
    s.watch.stop();
    expect(s.timers.pending).toBe(0);
    await s.installPro(DAY);
    expect(s.timers.pending).toBe(0);
  });
});
