import { describe, expect, it } from '@jest/globals';
import { CLOCK_ROLLBACK_TOLERANCE_MS, HighWaterClock, PERSIST_INTERVAL_MS } from '../../../src/app/high-water-clock.js';
import { CacheError } from '../../../src/domain/model/errors.js';
import type { HighWaterMark, HighWaterMarkStore } from '../../../src/ports/high-water-mark-store.port.js';
import { DAY, FixedClock, HOUR, MINUTE } from '../../support/fixed-clock.js';
import { RecordingLogger } from '../../support/recording-logger.js';

class InMemoryMarkStore implements HighWaterMarkStore {
  saved: HighWaterMark[] = [];
  constructor(public stored: HighWaterMark | null = null) {}
  async load(): Promise<HighWaterMark | null> {
    return this.stored;
  }
  async save(mark: HighWaterMark): Promise<void> {
    this.saved.push(mark);
    this.stored = mark;
  }
}

const T0 = new Date('2026-06-01T00:00:00Z');

async function setUp(stored: HighWaterMark | null = null) {
  const wall = new FixedClock(T0);
  let monotonic = 1_000;
  const store = new InMemoryMarkStore(stored);
  const logger = new RecordingLogger();
  const clock = new HighWaterClock(wall, store, logger, { elapsedMs: () => monotonic });
  await clock.load();
  await clock.persist();
  /** Real time passes: the wall clock and the monotonic clock both move. */
  const elapse = (ms: number) => {
    wall.advance(ms);
    monotonic += ms;
  };
  return { wall, store, logger, clock, elapse };
}

describe('HighWaterClock', () => {
  it('is the wall clock while the wall clock moves forward', async () => {
    const { clock, elapse } = await setUp();
    elapse(HOUR);
    expect(clock.now()).toEqual(new Date(T0.getTime() + HOUR));
    expect(clock.suspect).toBe(false);
  });

  it('never runs backwards: a wall clock up to 5 minutes behind is not suspect, and time stays at the mark', async () => {
    const { clock, wall, elapse, logger } = await setUp();
    wall.advance(-CLOCK_ROLLBACK_TOLERANCE_MS);
    elapse(1_000);
    // A token issued at T0 must not look "issued in the future" because NTP stepped the clock back.
    expect(clock.now()).toEqual(new Date(T0.getTime() + 1_000));
    expect(clock.suspect).toBe(false);
    expect(logger.at('warn')).toEqual([]);
  });

  it('after a rollback of more than 5 minutes is suspect, WARNs once, and keeps time from the mark', async () => {
    const { clock, wall, logger, elapse } = await setUp();
    wall.advance(-2 * DAY); // the clock set back two days
    elapse(HOUR); // and an hour passes

    expect(clock.now()).toEqual(new Date(T0.getTime() + HOUR));
    expect(clock.now()).toEqual(new Date(T0.getTime() + HOUR));
    expect(clock.suspect).toBe(true);
    expect(logger.at('warn')).toEqual([expect.stringMatching(/^System clock runs behind the time already seen/)]);
  });

  it('trusts the wall clock again once it catches up, saying so', async () => {
    const { clock, wall, logger } = await setUp();
    wall.advance(-DAY);
    expect(clock.suspect).toBe(true);
    wall.advance(DAY);
    expect(clock.suspect).toBe(false);
    expect(logger.at('info')).toEqual([expect.stringMatching(/^System clock caught up/)]);
  });

  it('remembers the mark across restarts: setting the clock back while stopped never extends a license', async () => {
    const first = await setUp();
    first.elapse(30 * DAY);
    await first.clock.persist();
    const saved = first.store.stored;

    const { clock, wall } = await setUp(saved); // restarted with the wall clock at T0 again: 30 days back
    expect(clock.suspect).toBe(true);
    expect(clock.now().getTime()).toBeGreaterThanOrEqual(T0.getTime() + 30 * DAY);
    expect(wall.now()).toEqual(T0);
  });

  it('raises the mark to an accepted token\'s iat, and remembers the newest backend iat, never lowering it', async () => {
    const { clock, store } = await setUp();
    clock.accepted(new Date(T0.getTime() + 3 * DAY), true);
    clock.accepted(new Date(T0.getTime() + DAY), true);
    clock.accepted(new Date(T0.getTime() + 5 * DAY), false); // static: time evidence only
    await clock.persist();

    expect(clock.newestBackendIssuedAt()).toEqual(new Date(T0.getTime() + 3 * DAY));
    expect(store.stored).toEqual({ highWaterAt: new Date(T0.getTime() + 5 * DAY), newestBackendIssuedAt: new Date(T0.getTime() + 3 * DAY) });
    expect(clock.suspect).toBe(true); // the wall clock is 5 days behind a signed iat
  });

  it('writes the mark at load, then in the background when read after the persist interval', async () => {
    const { clock, store, elapse } = await setUp();
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    await settle();
    const writes = store.saved.length;
    expect(writes).toBeGreaterThanOrEqual(1);

    elapse(PERSIST_INTERVAL_MS - MINUTE);
    clock.now();
    await settle();
    expect(store.saved.length).toBe(writes);

    elapse(2 * MINUTE);
    clock.now();
    await settle();
    expect(store.saved.length).toBe(writes + 1);
    expect(store.stored?.highWaterAt).toEqual(new Date(T0.getTime() + PERSIST_INTERVAL_MS + MINUTE));
  });

  it('survives a store that cannot be read or written, with a WARN each', async () => {
    const wall = new FixedClock(T0);
    const logger = new RecordingLogger();
    const broken: HighWaterMarkStore = {
      load: () => Promise.reject(new CacheError('CACHE.CORRUPT', 'clock.json is corrupt')),
      save: () => Promise.reject(new CacheError('CACHE.IO_FAILED', 'could not write clock.json (EACCES)')),
    };
    const clock = new HighWaterClock(wall, broken, logger, { elapsedMs: () => 0 });
    await clock.load();
    await clock.persist();
    expect(clock.now()).toEqual(T0);
    expect(logger.at('warn')).toEqual(['Clock high-water mark ignored', 'Could not save the clock high-water mark']);
  });
});
