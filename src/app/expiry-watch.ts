import type { ExpireLicense } from '../domain/expiry/expire-license.js';
import type { LicenseState } from '../domain/model/license-state.js';
import type { Clock } from '../ports/clock.port.js';
import type { TimerHandle, Timers } from '../ports/timers.port.js';

/**
 * Keeps a timer on the end of the grace period of the license in force; when it fires, the
 * license is expired (Community, degraded) and `onExpired` asks for a refresh.
 */
export class ExpiryWatch {
  #timer: TimerHandle | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly state: LicenseState,
    private readonly expireLicense: ExpireLicense,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly onExpired: () => void,
  ) {}

  start(): void {
    this.#unsubscribe ??= this.state.onChange(() => this.#arm());
    this.#arm();
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#timer?.cancel();
    this.#timer = null;
  }

  #arm(): void {
    this.#timer?.cancel();
    this.#timer = null;
    const { graceEndsAtMs } = this.state.current().license;
    if (graceEndsAtMs === Number.POSITIVE_INFINITY) return;
    // One millisecond past the end: the license is honoured up to and including its last instant.
    const delayMs = Math.max(0, graceEndsAtMs - this.clock.now().getTime() + 1);
    this.#timer = this.timers.schedule(() => {
      this.#timer = null;
      if (this.expireLicense.execute()) this.onExpired();
      else this.#arm(); // woke up early: wait for the rest
    }, delayMs);
  }
}
