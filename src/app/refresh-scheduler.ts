import type { RefreshLicense, RefreshOutcome } from '../domain/refresh/refresh-license.js';
import { nextRefreshDelay, type RefreshSchedulePolicy } from '../domain/refresh/refresh-schedule.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { TimerHandle, Timers } from '../ports/timers.port.js';

/**
 * Periodic refresh: after every refresh — start-up, periodic or forced — plans the next one from
 * its outcome (see `nextRefreshDelay`).
 */
export class RefreshScheduler {
  #timer: TimerHandle | null = null;
  #nextAt: Date | null = null;
  #consecutiveFailures = 0;
  #paused = false;
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly refresh: RefreshLicense,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly policy: RefreshSchedulePolicy,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.#unsubscribe ??= this.refresh.onFinished((outcome) => this.#plan(outcome));
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#cancel();
  }

  /** When the next periodic refresh is due; null when none is planned. */
  get nextAt(): Date | null {
    return this.#nextAt;
  }

  /** Plans a refresh after the first retry delay (used when the license in force has just expired). */
  retrySoon(): void {
    if (this.#planning) this.#arm(this.policy.firstRetryMs);
  }

  /** Plans no periodic refresh until `resume` (a fleet follower: the lease holder refreshes for it). */
  pause(): void {
    this.#paused = true;
    this.#cancel();
  }

  /** Plans again after `pause`, the next refresh in `delayMs`. Does nothing when not paused. */
  resume(delayMs: number): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#planning) this.#arm(delayMs);
  }

  get #planning(): boolean {
    return this.#unsubscribe !== null && !this.#paused;
  }

  #plan(outcome: RefreshOutcome): void {
    this.#consecutiveFailures = outcome.status === 'failed' ? this.#consecutiveFailures + 1 : 0;
    if (!this.#planning) return;
    this.#arm(nextRefreshDelay(outcome, this.#consecutiveFailures, this.clock.now(), this.policy, this.random));
  }

  #arm(delayMs: number): void {
    this.#cancel();
    this.#nextAt = new Date(this.clock.now().getTime() + delayMs);
    this.#timer = this.timers.schedule(() => this.#fire(), delayMs);
  }

  #fire(): void {
    this.#timer = null;
    this.#nextAt = null;
    this.refresh.execute().catch((error: unknown) => {
      this.logger.error('Periodic license refresh failed unexpectedly', { err: error });
      if (this.#planning) this.#arm(this.policy.maxRetryMs);
    });
  }

  #cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#nextAt = null;
  }
}
