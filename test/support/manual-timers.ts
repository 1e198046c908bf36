import { assertFiniteDelay } from '../../src/ports/timers.port.js';
import { ContainerModule } from 'inversify';
import type { TimerHandle, Timers } from '../../src/ports/timers.port.js';
import { TYPES } from '../../src/ports/types.js';
import type { FixedClock } from './fixed-clock.js';

interface Entry {
  readonly dueAt: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** Lets pending promise chains run (fakes only: no real I/O is awaited). */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Timers driven by a FixedClock: nothing fires until the test moves time forward. */
export class ManualTimers implements Timers {
  readonly #entries: Entry[] = [];
  /** Every delay ever scheduled, in order. */
  readonly delays: number[] = [];

  constructor(private readonly clock: FixedClock) {}

  schedule(callback: () => void, delayMs: number): TimerHandle {
    assertFiniteDelay(delayMs);
    const entry: Entry = { dueAt: this.clock.now().getTime() + delayMs, callback, cancelled: false };
    this.#entries.push(entry);
    this.delays.push(delayMs);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.#active().length;
  }

  /** Milliseconds until the next timer is due, or null when none is pending. */
  nextDelay(): number | null {
    const [next] = this.#active();
    return next === undefined ? null : next.dueAt - this.clock.now().getTime();
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now().getTime() + ms;
    for (let next = this.#active()[0]; next !== undefined && next.dueAt <= target; next = this.#active()[0]) {
      this.clock.set(new Date(Math.max(next.dueAt, this.clock.now().getTime())));
      this.#entries.splice(this.#entries.indexOf(next), 1);
      next.callback();
      await settle();
    }
    this.clock.set(new Date(target));
    await settle();
  }

  /** Moves the clock to the next pending timer and fires it. */
  async fireNext(): Promise<void> {
    const delay = this.nextDelay();
    if (delay === null) throw new Error('no timer is pending');
    await this.advance(Math.max(0, delay));
  }

  #active(): Entry[] {
    return this.#entries.filter((entry) => !entry.cancelled).sort((a, b) => a.dueAt - b.dueAt);
  }
}

/** A system module with the clock and timers the test drives: nothing fires unless time is moved. */
export function manualSystem(clock: FixedClock, timers: ManualTimers): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TYPES.WallClock).toConstantValue(clock);
    // No real time passes in these tests but what the test does to the wall clock.
    bind(TYPES.MonotonicClock).toConstantValue({ elapsedMs: () => 0 });
    bind(TYPES.Timers).toConstantValue(timers);
  });
}
