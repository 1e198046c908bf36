/** The current time; injected so that expiry and grace are testable. */
export interface Clock {
  now(): Date;
}
