import { describe, expect, it } from '@jest/globals';
import { ConditionLog, TRANSIENT_REPEAT_MS } from '../../../src/domain/logging/condition-log.js';
import { BackendError } from '../../../src/domain/model/errors.js';
import { FixedClock, MINUTE } from '../../support/fixed-clock.js';
import { aLicenseClaims } from '../../support/license-claims.builder.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { API_KEY, resolutionHarness } from '../../support/resolution-harness.js';
import { issued } from '../../support/scripted-token-backend.js';

describe('ConditionLog', () => {
  const setUp = () => {
    const clock = new FixedClock();
    const logger = new RecordingLogger();
    return { clock, logger, log: new ConditionLog(logger, clock) };
  };

  it('logs a permanent condition at its level once, then at DEBUG while it persists', () => {
    const { logger, log } = setUp();
    for (let i = 0; i < 5; i += 1) log.report('API_KEY.MALFORMED', 'permanent', 'error', 'API key is malformed');
    expect(logger.at('error')).toEqual(['API key is malformed']);
    expect(logger.at('debug')).toHaveLength(4);
  });

  it('logs a transient condition at once, then again only after 10 minutes, with how often it happened meanwhile', () => {
    const { clock, logger, log } = setUp();
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    clock.advance(TRANSIENT_REPEAT_MS - 1);
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    expect(logger.at('warn')).toHaveLength(1);
    clock.advance(1);
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.fields)).toEqual([{}, { repeated_since_last_log: 2 }]);
    expect(TRANSIENT_REPEAT_MS).toBe(10 * MINUTE);
  });

  it('logs a different condition at once, and the recovery at INFO only when there was a condition', () => {
    const { logger, log } = setUp();
    expect(log.recovered('back')).toBe(false);
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    log.report('BACKEND.TIMEOUT', 'transient', 'warn', 'slow');
    expect(logger.at('warn')).toEqual(['down', 'slow']);
    expect(log.recovered('back')).toBe(true);
    expect(log.recovered('back')).toBe(false);
    expect(logger.at('info')).toEqual(['back']);
  });
});

describe('ConditionLog: the whole lines', () => {
  const setUp = () => {
    const clock = new FixedClock();
    const logger = new RecordingLogger();
    return { clock, logger, log: new ConditionLog(logger, clock) };
  };

  it('a repeat logged at DEBUG keeps the fields and says it is a repeat', () => {
    const { logger, log } = setUp();
    log.report('API_KEY.MALFORMED', 'permanent', 'error', 'API key is malformed', { code: 'API_KEY.MALFORMED' });
    log.report('API_KEY.MALFORMED', 'permanent', 'error', 'API key is malformed', { code: 'API_KEY.MALFORMED' });
    log.report('API_KEY.MALFORMED', 'permanent', 'error', 'API key is malformed');

    expect(logger.entries).toEqual([
      { level: 'error', message: 'API key is malformed', fields: { code: 'API_KEY.MALFORMED' } },
      { level: 'debug', message: 'API key is malformed', fields: { code: 'API_KEY.MALFORMED', repeated: true } },
      { level: 'debug', message: 'API key is malformed', fields: { repeated: true } },
    ]);
  });

  it('a permanent condition stays at DEBUG however long it lasts', () => {
    const { clock, logger, log } = setUp();
    log.report('BACKEND.REJECTED', 'permanent', 'error', 'revoked');
    clock.advance(100 * TRANSIENT_REPEAT_MS);
    log.report('BACKEND.REJECTED', 'permanent', 'error', 'revoked');

    expect(logger.entries.map((entry) => entry.level)).toEqual(['error', 'debug']);
  });

  it('a transient condition logged again after the interval with nothing unlogged meanwhile adds no count', () => {
    const { clock, logger, log } = setUp();
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down', { status: null });
    clock.advance(TRANSIENT_REPEAT_MS);
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down', { status: null });

    expect(logger.entries).toEqual([
      { level: 'warn', message: 'down', fields: { status: null } },
      { level: 'warn', message: 'down', fields: { status: null } },
    ]);
  });

  it('the interval counts from the last line at its level, not from the first occurrence', () => {
    const { clock, logger, log } = setUp();
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    clock.advance(TRANSIENT_REPEAT_MS);
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    clock.advance(TRANSIENT_REPEAT_MS - 1);
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');

    expect(logger.entries.map((entry) => entry.level)).toEqual(['warn', 'warn', 'debug']);
  });

  it('a new condition after repeats of another one carries no count of them', () => {
    const { logger, log } = setUp();
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    log.report('BACKEND.TIMEOUT', 'transient', 'error', 'slow', { code: 'BACKEND.TIMEOUT' });

    expect(logger.entries.at(-1)).toEqual({ level: 'error', message: 'slow', fields: { code: 'BACKEND.TIMEOUT' } });
  });

  it('honours the interval it was given', () => {
    const clock = new FixedClock();
    const logger = new RecordingLogger();
    const log = new ConditionLog(logger, clock, MINUTE);
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    clock.advance(MINUTE);
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');

    expect(logger.at('warn')).toHaveLength(2);
  });

  it('the recovery line carries its fields, and a condition after it is new again', () => {
    const { logger, log } = setUp();
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');
    log.recovered('back', { source: 'license_backend' });
    log.report('BACKEND.UNREACHABLE', 'transient', 'warn', 'down');

    expect(logger.entries).toEqual([
      { level: 'warn', message: 'down', fields: {} },
      { level: 'info', message: 'back', fields: { source: 'license_backend' } },
      { level: 'warn', message: 'down', fields: {} },
    ]);
  });
});

describe('the backend step through a ConditionLog', () => {
  it('says "License backend reachable again" after failures, and logs a retried outage once', async () => {
    const h = resolutionHarness();
    const resolve = h.build({ apiKey: API_KEY });
    h.backend.answer(new BackendError('BACKEND.UNREACHABLE', 'license backend at 127.0.0.1:1 is unreachable (connection refused)'));
    for (let i = 0; i < 4; i += 1) await resolve.execute();
    expect(h.logger.at('warn').filter((line) => line.startsWith('License backend request failed'))).toHaveLength(1);

    h.backend.answer(issued(h.verifier.issue(aLicenseClaims(h.clock.now()))));
    await resolve.execute();
    expect(h.logger.at('info')).toContain('License backend reachable again');
  });

  it('logs a revoked key at ERROR once, not on every periodic refresh', async () => {
    const h = resolutionHarness();
    const resolve = h.build({ apiKey: API_KEY });
    h.backend.answer(new BackendError('BACKEND.REJECTED', 'revoked', { status: 401 }));
    for (let i = 0; i < 3; i += 1) await resolve.execute();
    expect(h.logger.at('error').filter((line) => line.startsWith('License backend rejected the API key'))).toHaveLength(1);
  });
});
