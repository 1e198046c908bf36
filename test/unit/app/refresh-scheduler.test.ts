import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { RefreshScheduler } from '../../../src/app/refresh-scheduler.js';
import { BackendError } from '../../../src/domain/model/errors.js';
import { RefreshLicense } from '../../../src/domain/refresh/refresh-license.js';
import { refreshSchedulePolicy } from '../../../src/domain/refresh/refresh-schedule.js';
import { DAY, HOUR, MINUTE, SECOND } from '../../support/fixed-clock.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { ManualTimers } from '../../support/manual-timers.js';
import { RecordingTelemetry } from '../../support/recording-telemetry.js';
import { API_KEY, resolutionHarness } from '../../support/resolution-harness.js';
import { issued } from '../../support/scripted-token-backend.js';

const INTERVAL = 24 * HOUR;
const unavailable = () => new BackendError('BACKEND.HTTP_STATUS', 'license backend answered HTTP 503', { status: 503 });

function setUp() {
  const h = resolutionHarness();
  const timers = new ManualTimers(h.clock);
  const refresh = new RefreshLicense(h.build({ apiKey: API_KEY }), h.state, h.clock, new RecordingTelemetry(), h.logger);
  const scheduler = new RefreshScheduler(refresh, h.clock, timers, refreshSchedulePolicy(INTERVAL), h.logger, () => 0.5);
  const proFor = (ms: number) => issued(h.verifier.issue(aLicenseClaims(h.clock.now(), { expiresAt: new Date(h.clock.now().getTime() + ms) })));
  return { ...h, timers, refresh, scheduler, proFor };
}

describe('RefreshScheduler', () => {
  let s: ReturnType<typeof setUp>;
  beforeEach(() => {
    s = setUp();
    s.scheduler.start();
  });
  afterEach(() => s.scheduler.stop());

  it('refreshes again after the interval when the token lives longer', async () => {
    s.backend.answer(s.proFor(365 * DAY));
    await s.refresh.execute();
    expect(s.timers.nextDelay()).toBe(INTERVAL);
    expect(s.scheduler.nextAt).toEqual(new Date(s.clock.now().getTime() + INTERVAL));

    await s.timers.advance(INTERVAL - 1);
    expect(s.backend.requests).toHaveLength(1);
    await s.timers.advance(1);
    expect(s.backend.requests).toHaveLength(2);
  });

  it('refreshes at 80 % of the remaining lifetime of a short-lived token', async () => {
    s.backend.answer(s.proFor(10 * HOUR));
    await s.refresh.execute();
    expect(s.timers.nextDelay()).toBe(8 * HOUR);
  });

  it('backs off 1 s, 2 s, 4 s … up to 5 minutes while the backend fails, then returns to the interval', async () => {
    s.backend.answer(unavailable());
    await s.refresh.execute();
    for (let i = 0; i < 10; i += 1) await s.timers.fireNext();
    expect(s.timers.delays).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map((seconds) => seconds * SECOND));

    s.backend.answer(s.proFor(365 * DAY));
    await s.timers.fireNext();
    expect(s.timers.nextDelay()).toBe(INTERVAL);
  });

  it('waits as long as the backend asks with Retry-After', async () => {
    s.backend.answer(new BackendError('BACKEND.HTTP_STATUS', 'license backend answered HTTP 429', { status: 429, retryAfterMs: 90 * SECOND }));
    await s.refresh.execute();
    expect(s.timers.nextDelay()).toBe(90 * SECOND);
  });

  it('replans after a forced refresh, which shares the schedule', async () => {
    s.backend.answer(s.proFor(365 * DAY));
    await s.refresh.execute();
    await s.timers.advance(10 * HOUR);
    await s.refresh.execute(); // forced by an operator
    expect(s.timers.pending).toBe(1);
    expect(s.timers.nextDelay()).toBe(INTERVAL);
  });

  it('stops cleanly: no timer left, no refresh afterwards', async () => {
    s.backend.answer(s.proFor(365 * DAY));
    await s.refresh.execute();
    s.scheduler.stop();
    expect(s.timers.pending).toBe(0);
    expect(s.scheduler.nextAt).toBeNull();
    await s.timers.advance(7 * DAY);
    expect(s.backend.requests).toHaveLength(1);
  });

  it('retrySoon plans a refresh after the first backoff step', async () => {
    s.backend.answer(s.proFor(365 * DAY));
    await s.refresh.execute();
    s.scheduler.retrySoon();
    expect(s.timers.nextDelay()).toBe(SECOND);
    expect(s.timers.pending).toBe(1);
    await s.timers.advance(MINUTE);
    expect(s.backend.requests).toHaveLength(2);
  });
});
