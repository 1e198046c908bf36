import type { Clock } from '../../src/ports/clock.port.js';

/** A clock that moves only when told to. */
export class FixedClock implements Clock {
  #now: number;

  constructor(start: Date | string = '2026-06-01T00:00:00Z') {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  set(at: Date | string): void {
    this.#now = new Date(at).getTime();
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
