import type { Clock } from '../../ports/clock.port.js';
import type { RefreshLicense, RefreshOutcome } from './refresh-license.js';

export type ForcedRefreshResult =
  | { readonly kind: 'done'; readonly outcome: RefreshOutcome }
  | { readonly kind: 'no_api_key' }
  | { readonly kind: 'too_soon'; readonly retryAfterMs: number };

/**
 * An operator's "refresh now": only with an API key, at most once per minimum interval after
 * the last forced refresh finished; a call that arrives while any refresh runs shares it. A
 * refused call never waits longer than the minimum interval, even after the clock stepped back.
 */
export class ForceRefresh {
  #lastFinishedAt: number | null = null;

  constructor(
    private readonly refresh: RefreshLicense,
    private readonly clock: Clock,
    private readonly settings: { readonly apiKeyConfigured: boolean; readonly minIntervalMs: number },
  ) {}

  async execute(): Promise<ForcedRefreshResult> {
    if (!this.settings.apiKeyConfigured) return { kind: 'no_api_key' };
    const running = this.refresh.inFlight;
    if (running === null) {
      const retryAfterMs = this.#waitMs();
      if (retryAfterMs > 0) return { kind: 'too_soon', retryAfterMs };
    }
    const outcome = await (running ?? this.refresh.execute());
    this.#lastFinishedAt = outcome.finishedAt.getTime();
    return { kind: 'done', outcome };
  }

  #waitMs(): number {
    if (this.#lastFinishedAt === null) return 0;
    const now = this.clock.now().getTime();
    // The clock stepped back (the high-water clock lets it, by up to 5 minutes): the interval
    // counts from now, so the wait never exceeds the minimum interval.
    if (now < this.#lastFinishedAt) this.#lastFinishedAt = now;
    return Math.max(0, this.#lastFinishedAt + this.settings.minIntervalMs - now);
  }
}
