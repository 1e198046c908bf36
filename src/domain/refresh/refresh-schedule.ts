import type { RefreshOutcome } from './refresh-license.js';

export interface RefreshSchedulePolicy {
  /** The configured refresh interval: the longest wait between two refreshes. */
  readonly intervalMs: number;
  /** Share of the token's remaining lifetime after which to refresh, when that comes sooner. */
  readonly lifetimeShare: number;
  /** Backoff after a failure: first wait, doubling up to the cap. */
  readonly firstRetryMs: number;
  /** The backoff's cap while no license is in force (Community): getting one back is urgent. */
  readonly maxRetryMs: number;
  /** With a license in force: how many quick doubling retries (1 s, 2 s, 4 s) for a blip. */
  readonly quickRetries: number;
  /**
   * With a license in force, after the quick retries: the typical wait (at most a quarter of the
   * time left until its grace ends, never under `maxRetryMs`). Waiting costs nothing then, and
   * during a long outage the retries of many agents spread over this long, so that the backend's
   * return is not met by all of them at once (`npm run bench:fleet`).
   */
  readonly outageRetryMs: number;
  /** ± share of randomness on periodic refreshes, so that servers do not refresh in step. */
  readonly jitter: number;
}

export function refreshSchedulePolicy(intervalMs: number): RefreshSchedulePolicy {
  return {
    intervalMs,
    lifetimeShare: 0.8,
    firstRetryMs: 1_000,
    maxRetryMs: 5 * 60_000,
    quickRetries: 3,
    outageRetryMs: 90 * 60_000,
    jitter: 0.1,
  };
}

/**
 * The n-th retry's typical wait. Without a license in force (Community): 1 s doubling to 5 min —
 * getting one is urgent. With one: a few quick retries (1 s, 2 s, 4 s) for a blip, then the outage
 * wait (`outageRetryMs`, at most a quarter of the time left until the license's grace ends).
 */
export function nominalRetryDelay(
  consecutiveFailures: number,
  snapshot: RefreshOutcome['snapshot'],
  now: Date,
  policy: RefreshSchedulePolicy,
): number {
  const n = Math.max(1, consecutiveFailures);
  const doubling = policy.firstRetryMs * 2 ** Math.min(n - 1, 40);
  const { expiresAt, graceEndsAtMs } = snapshot.license;
  if (expiresAt === null) return Math.min(policy.maxRetryMs, doubling);
  if (n <= policy.quickRetries) return doubling;
  return Math.min(policy.outageRetryMs, Math.max(policy.maxRetryMs, (graceEndsAtMs - now.getTime()) / 4 || 0));
}

/**
 * How long to wait before the next periodic refresh. After a success (or a refresh that had no
 * backend call to make, or a failure no retry can fix — a malformed or rejected API key waits for
 * the operator, not for a backoff): the interval, or 80 % of the token's remaining lifetime if sooner, with
 * ±10 % jitter. After the n-th failure in a row: full jitter around the nominal backoff (1 s
 * doubling to 5 min, then after an hour of failures on to 1 h): uniform between half a first retry
 * and twice the nominal, so that the nominal is the mean; never later than the interval, and never
 * sooner than the backend's `Retry-After` (itself capped at 5 min). `random` returns a number in [0, 1).
 * Full jitter, not ±10 %: after a long outage, ±10 % keeps thousands of agents retrying within the
 * same few minutes, and they all return at once (`npm run bench:fleet`).
 */
export function nextRefreshDelay(
  outcome: Pick<RefreshOutcome, 'status' | 'permanent' | 'retryAfterMs' | 'snapshot'>,
  consecutiveFailures: number,
  now: Date,
  policy: RefreshSchedulePolicy,
  random: () => number,
): number {
  const jittered = (ms: number) => ms * (1 + policy.jitter * (2 * random() - 1));
  if (outcome.status !== 'failed' || outcome.permanent) {
    const expiresAt = outcome.snapshot.license.expiresAt;
    const lifetimeMs = expiresAt === null ? Number.POSITIVE_INFINITY : expiresAt.getTime() - now.getTime();
    const base = lifetimeMs > 0 ? Math.min(policy.intervalMs, policy.lifetimeShare * lifetimeMs) : policy.maxRetryMs;
    return Math.max(policy.firstRetryMs, jittered(Math.min(base, policy.intervalMs)));
  }
  const fullJitter = Math.max(policy.firstRetryMs / 2, (0.5 + random()) * nominalRetryDelay(consecutiveFailures, outcome.snapshot, now, policy));
  const delay = Math.min(fullJitter, policy.intervalMs);
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
  const planned = nextRefreshDelay({ status: 'refreshed', permanent: false, retryAfterMs: null, snapshot }, 0, token.issuedAt, policy, random);
  return Math.max(policy.firstRetryMs, planned - (now.getTime() - token.issuedAt.getTime()));
}
