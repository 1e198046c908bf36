/** Something that can be cancelled. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * One-shot timers, injected so that scheduling is testable with a controllable clock.
 * Implementations must accept any delay (Node's own timers misfire past about 24.8 days).
 */
export interface Timers {
  schedule(callback: () => void, delayMs: number): TimerHandle;
}
