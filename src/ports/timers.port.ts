/** Something that can be cancelled. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * One-shot timers, injected so that scheduling is testable with a controllable clock.
 * Implementations must accept any finite delay (Node's own timers misfire past about 24.8 days)
 * and throw `RangeError` for a delay that is not a finite number: a `NaN` deadline is a bug
 * upstream, never a reason to fire at once (or hundreds of times a second).
 */
export interface Timers {
  schedule(callback: () => void, delayMs: number): TimerHandle;
}

/** The check every `Timers` makes first. */
export function assertFiniteDelay(delayMs: number): void {
  if (!Number.isFinite(delayMs)) throw new RangeError(`timer delay must be a finite number of milliseconds, got ${delayMs}`);
}
