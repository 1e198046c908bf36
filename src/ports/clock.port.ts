/** The current time; injected so that expiry and grace are testable. */
export interface Clock {
  now(): Date;
}

/**
 * Time that only moves forward, whatever is done to the wall clock (`performance.now()`), in
 * milliseconds from an arbitrary origin: how much time has really passed between two readings.
 */
export interface MonotonicClock {
  elapsedMs(): number;
}
