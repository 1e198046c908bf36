import { describe, expect, it } from '@jest/globals';
import type { QuotaDenial } from '../../../src/domain/enforcement/enforcement.js';
import { ShadowLog } from '../../../src/domain/enforcement/shadow-log.js';
import { FixedClock } from '../../support/fixed-clock.js';
import { RecordingLogger } from '../../support/recording-logger.js';

const denial: QuotaDenial = { kind: 'quota', tier: 'community', quota: 'max_result_rows', limit: 10_000, requested: 20_000 };

describe('ShadowLog', () => {
  it('logs a would-be refusal at WARN at most once a minute, with how many went unlogged since the last line', () => {
    const clock = new FixedClock();
    const logger = new RecordingLogger();
    const log = new ShadowLog(clock, logger);
    for (let i = 0; i < 4; i += 1) log.record(denial, 402);
    expect(logger.entries).toEqual([
      {
        level: 'warn',
        message: 'Shadow enforcement let through what it would refuse: max_result_rows is limited to 10000 on the Community tier; 20000 requested',
        fields: { enforcement_mode: 'shadow', kind: 'quota', name: 'max_result_rows', refusal: 402, unlogged_since_last: 0 },
      },
    ]);
    clock.advance(59_999);
    log.record(denial, 402);
    expect(logger.entries).toHaveLength(1);
    clock.advance(1);
    log.record(denial, 429);
    expect(logger.entries).toHaveLength(2);
    expect(logger.entries[1]?.fields).toMatchObject({ refusal: 429, unlogged_since_last: 4 });
  });

  it('keeps one rate limit per gate: another gate logs its own first refusal at once', () => {
    const clock = new FixedClock();
    const logger = new RecordingLogger();
    new ShadowLog(clock, logger).record(denial, 402);
    new ShadowLog(clock, logger).record({ kind: 'feature', tier: 'pro', feature: 'federation' }, 402);
    expect(logger.at('warn')).toHaveLength(2);
  });
});
