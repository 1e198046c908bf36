import type { MonotonicClock } from '../../ports/clock.port.js';
import type { UsageCounters } from '../../domain/telemetry/usage-counters.js';
import type { IssuedToken, TokenBackend, TokenRequest } from '../../ports/token-backend.port.js';

/** What the report says about where and for how long the agent runs. */
export interface UsageEnvironment {
  /** The operating system, `process.platform`. */
  readonly platform: string;
  readonly clock: MonotonicClock;
}

/**
 * The token backend that sends the usage counters with each request (DESIGN §12), over the one that
 * talks to the license backend. The counters are acknowledged only when the backend answered with
 * a token: after a failure (network, timeout, 401, 5xx, a malformed answer) they keep accumulating
 * into the next request. It wraps the HTTP backend directly, under the fleet's: a follower, which
 * forwards its refreshes to the leader, never sends (nor acknowledges) its counters.
 */
export class UsageReportingTokenBackend implements TokenBackend {
  readonly #startedAtMs: number;

  constructor(
    private readonly backend: TokenBackend,
    private readonly counters: UsageCounters,
    private readonly environment: UsageEnvironment,
  ) {
    this.#startedAtMs = environment.clock.elapsedMs();
  }

  async requestToken(request: TokenRequest): Promise<IssuedToken> {
    const counts = this.counters.snapshot();
    const uptimeSeconds = Math.max(0, Math.floor((this.environment.clock.elapsedMs() - this.#startedAtMs) / 1000));
    const issued = await this.backend.requestToken({ ...request, usage: { ...counts, uptimeSeconds, platform: this.environment.platform } });
    this.counters.acknowledge(counts);
    return issued;
  }
}
