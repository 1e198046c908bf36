import { describe, expect, it } from '@jest/globals';
import { GraceWarnings } from '../../../src/domain/expiry/grace-warnings.js';
import { COMMUNITY_LICENSE, type License } from '../../../src/domain/model/license.js';
import { DAY, FixedClock, HOUR, MINUTE } from '../../support/fixed-clock.js';
import { RecordingLogger } from '../../support/recording-logger.js';

const GRACE = 14 * DAY;

function setUp() {
  const clock = new FixedClock('2026-06-01T00:00:00Z');
  const logger = new RecordingLogger();
  const expiresAt = new Date('2026-05-31T00:00:00Z');
  const license: License = {
    ...COMMUNITY_LICENSE,
    tier: 'pro',
    source: 'api_key',
    expiresAt,
    gracePeriodMs: GRACE,
    expiresAtMs: expiresAt.getTime(),
    midGraceAtMs: expiresAt.getTime() + GRACE / 2,
    graceEndsAtMs: expiresAt.getTime() + GRACE,
  };
  return { clock, logger, license, warnings: new GraceWarnings(clock, logger) };
}

describe('GraceWarnings', () => {
  it('warns at most once an hour while the grace status stays the same', () => {
    const { clock, logger, license, warnings } = setUp();
    for (let i = 0; i < 1000; i += 1) warnings.check(license);
    clock.advance(59 * MINUTE);
    warnings.check(license);
    expect(logger.at('warn')).toHaveLength(1);
    clock.advance(MINUTE);
    warnings.check(license);
    expect(logger.at('warn')).toHaveLength(2);
  });

  it('warns again at once when early grace turns into mid grace', () => {
    const { clock, logger, license, warnings } = setUp();
    expect(warnings.check(license)).toBe('early_grace');
    clock.advance(7 * DAY);
    expect(warnings.check(license)).toBe('mid_grace');
    expect(logger.at('warn')).toEqual([expect.stringContaining('early grace'), expect.stringContaining('mid grace')]);
  });

  it('says which grace, until when, and counts the days in its fields', () => {
    const { clock, logger, license, warnings } = setUp();
    warnings.check(license);
    clock.set('2026-06-09T00:00:00Z');
    warnings.check(license);
    expect(logger.entries).toEqual([
      {
        level: 'warn',
        message: 'Pro license expired on 2026-05-31T00:00:00.000Z; early grace period, Community mode from 2026-06-14T00:00:00.000Z unless renewed',
        fields: { grace: 'early', days_expired: 1, days_remaining: 13 },
      },
      {
        level: 'warn',
        message: 'Pro license expired on 2026-05-31T00:00:00.000Z; mid grace period, Community mode from 2026-06-14T00:00:00.000Z unless renewed',
        fields: { grace: 'mid', days_expired: 9, days_remaining: 5 },
      },
    ]);
  });

  it('is silent past the end of grace', () => {
    const { clock, logger, license, warnings } = setUp();
    clock.set('2026-06-14T00:00:00.001Z');
    expect(warnings.check(license)).toBe('expired');
    expect(logger.entries).toEqual([]);
  });

  it('is silent for a valid license and for Community', () => {
    const { clock, logger, license, warnings } = setUp();
    clock.set('2026-05-30T00:00:00Z');
    expect(warnings.check(license)).toBe('valid');
    expect(warnings.check(COMMUNITY_LICENSE)).toBe('valid');
    clock.advance(HOUR);
    expect(logger.entries).toEqual([]);
  });
});
