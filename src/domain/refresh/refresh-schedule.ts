import type { RefreshOutcome } from './refresh-license.js';

export interface RefreshSchedulePolicy {
  /** The configured refresh interval: the longest wait between two refreshes. */
  readonly intervalMs: number;
  /** Share of the token's remaining lifetime after which to refresh, when that comes sooner. */
  readonly lifetimeShare: number;
  /** Backoff after a failure: first wait, doubling up to the cap. */
  readonly firstRetryMs: number;
  readonly maxRetryMs: number;
  /** ± share of randomness, so that a fleet of servers does not refresh in step. */
  readonly jitter: number;
}

export function refreshSchedulePolicy(intervalMs: number): RefreshSchedulePolicy {
  return { intervalMs, lifetimeShare: 0.8, firstRetryMs: 1_000, maxRetryMs: 5 * 60_000, jitter: 0.1 };
}

/**
 * How long to wait before the next periodic refresh. After a success (or a refresh that had no
 * backend call to make): the interval, or 80 % of
 * the token's remaining lifetime if sooner. After the n-th failure in a row: 1 s doubling to
 * 5 min, never later than the interval, and never sooner than the backend's `Retry-After`
 * (itself capped at 5 min). Both with ±10 % jitter; `random` returns a number in [0, 1).
 */
export function nextRefreshDelay(
  outcome: Pick<RefreshOutcome, 'status' | 'retryAfterMs' | 'snapshot'>,
  consecutiveFailures: number,
  now: Date,
  policy: RefreshSchedulePolicy,
  random: () => number,
): number {
  const jittered = (ms: number) => ms * (1 + policy.jitter * (2 * random() - 1));
  if (outcome.status !== 'failed') {
    const expiresAt = outcome.snapshot.license.expiresAt;
    const lifetimeMs = expiresAt === null ? Number.POSITIVE_INFINITY : expiresAt.getTime() - now.getTime();
    const base = lifetimeMs > 0 ? Math.min(policy.intervalMs, policy.lifetimeShare * lifetimeMs) : policy.maxRetryMs;
    return Math.max(policy.firstRetryMs, jittered(Math.min(base, policy.intervalMs)));
  }
  const backoff = Math.min(policy.maxRetryMs, policy.firstRetryMs * 2 ** Math.max(0, consecutiveFailures - 1));
  const delay = Math.min(jittered(backoff), policy.intervalMs);
  return outcome.retryAfterMs === null ? delay : Math.max(delay, Math.min(outcome.retryAfterMs, policy.maxRetryMs));
}

/**
 * When a member that did not refresh so far starts to (a fleet's new lease holder, or a follower
 * left on its own): the schedule goes on from the license in force, as if it had been refreshed
 * at its `iat` — so that no refresh is lost to the change of hands, and a fleet does not refresh
 * twice in a row. Never sooner than the first retry; soon when there is no token in force.
 */
export function delayAfterTakeover(snapshot: RefreshOutcome['snapshot'], now: Date, policy: RefreshSchedulePolicy, random: () => number): number {
  const token = snapshot.license.token;
  if (token === null) return policy.firstRetryMs;
  const planned = nextRefreshDelay({ status: 'refreshed', retryAfterMs: null, snapshot }, 0, token.issuedAt, policy, random);
  return Math.max(policy.firstRetryMs, planned - (now.getTime() - token.issuedAt.getTime()));
}
