import type { Clock, MonotonicClock } from '../ports/clock.port.js';

/** The process's monotonic clock. */
export const PERFORMANCE_CLOCK: MonotonicClock = { elapsedMs: () => performance.now() };
import type { HighWaterMark, HighWaterMarkStore } from '../ports/high-water-mark-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { TrustedTime } from '../ports/trusted-time.port.js';
import { isUnsafeDirectory } from '../domain/model/errors.js';

/** How far the wall clock may run behind the high-water mark before it is suspect (DESIGN §3). */
export const CLOCK_ROLLBACK_TOLERANCE_MS = 5 * 60_000;
/** While the clock is read, the mark is written at least this often (monotonic time). */
export const PERSIST_INTERVAL_MS = 10 * 60_000;

/**
 * The clock the agent judges licenses by: never earlier than the high-water mark of trusted time
 * (the mark plus the monotonic time elapsed since it was set), so that setting the clock back never
 * extends a license and a token issued at a time already seen is never "issued in the future".
 * Otherwise the wall clock. When the wall clock runs more than 5 minutes behind the mark it is
 * *suspect* (WARN once, status and metric); within 5 minutes it is an ordinary step (NTP).
  The mark is the latest wall-clock instant and token `iat` seen; it is raised in memory by
 * `accepted` and written by `persist` (at start, after refreshes and lapses, at stop) and, in the
 * background, whenever the clock is read and the last write is older than `PERSIST_INTERVAL_MS`.
 *
 * Per call: one wall-clock read, one monotonic read, a subtraction and a compare.
 */
export class HighWaterClock implements Clock, TrustedTime {
  #markMs = Number.NEGATIVE_INFINITY;
  #markMonotonicMs = 0;
  #newestBackendIssuedAt: Date | null = null;
  #suspect = false;
  #persisting: Promise<void> | null = null;
  #persistAgain = false;
  #lastPersistMonotonicMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly wallClock: Clock,
    private readonly store: HighWaterMarkStore,
    private readonly logger: Logger,
    private readonly monotonic: MonotonicClock = PERFORMANCE_CLOCK,
  ) {}

  private monotonicMs(): number {
    return this.monotonic.elapsedMs();
  }

  /** Reads the persisted mark (an unreadable one counts as none, with a WARN) and raises it to now. */
  async load(): Promise<void> {
    try {
      const mark = await this.store.load();
      if (mark !== null) {
        this.#raiseTo(mark.highWaterAt.getTime());
        this.#newestBackendIssuedAt = mark.newestBackendIssuedAt;
      }
    } catch (error) {
      this.logger[isUnsafeDirectory(error) ? 'debug' : 'warn']('Clock high-water mark ignored', { err: error });
    }
    this.now();
  }

  now(): Date {
    const wallMs = this.wallClock.now().getTime();
    const monotonicMs = this.monotonicMs();
    const trustedMs = this.#markMs + (monotonicMs - this.#markMonotonicMs);
    if (monotonicMs - this.#lastPersistMonotonicMs > PERSIST_INTERVAL_MS) void this.persist();
    if (wallMs >= trustedMs - CLOCK_ROLLBACK_TOLERANCE_MS) {
      if (this.#suspect) this.#clearSuspicion();
    } else if (!this.#suspect) {
      this.#becomeSuspect(wallMs, trustedMs);
    }
    return new Date(Math.max(wallMs, trustedMs));
  }

  /** True while the wall clock runs more than 5 minutes behind trusted time. */
  get suspect(): boolean {
    this.now();
    return this.#suspect;
  }

  /** The high-water mark as it would be persisted now. */
  mark(): HighWaterMark {
    this.#raiseTo(this.wallClock.now().getTime());
    return { highWaterAt: new Date(this.#trustedMs()), newestBackendIssuedAt: this.#newestBackendIssuedAt };
  }

  newestBackendIssuedAt(): Date | null {
    return this.#newestBackendIssuedAt;
  }

  accepted(issuedAt: Date, fromBackend: boolean): void {
    this.#raiseTo(issuedAt.getTime());
    if (fromBackend && (this.#newestBackendIssuedAt === null || issuedAt > this.#newestBackendIssuedAt)) {
      this.#newestBackendIssuedAt = issuedAt;
    }
    this.persist();
  }

  /**
   * Writes the mark in the background (never awaited by license work); while a write runs, later
   * calls coalesce into one more write. The returned promise settles when the writes are done.
   */
  persist(): Promise<void> {
    if (this.#persisting !== null) {
      this.#persistAgain = true;
      return this.#persisting;
    }
    this.#lastPersistMonotonicMs = this.monotonicMs();
    this.#persisting = this.#write().finally(() => {
      this.#persisting = null;
    });
    return this.#persisting;
  }

  async #write(): Promise<void> {
    do {
      this.#persistAgain = false;
      try {
        await this.store.save(this.mark());
      } catch (error) {
        this.logger[isUnsafeDirectory(error) ? 'debug' : 'warn']('Could not save the clock high-water mark', { err: error });
        return;
      }
    } while (this.#persistAgain);
  }

  /** The mark advanced by the monotonic time elapsed since it was set (no earlier than any instant seen). */
  #trustedMs(): number {
    return this.#markMs + (this.monotonicMs() - this.#markMonotonicMs);
  }

  #raiseTo(ms: number): void {
    if (!(ms > this.#trustedMs())) return;
    this.#markMs = ms;
    this.#markMonotonicMs = this.monotonicMs();
  }

  #becomeSuspect(wallMs: number, trustedMs: number): void {
    this.#suspect = true;
    this.logger.warn('System clock runs behind the time already seen; judging license expiry by the high-water mark', {
      wall_clock: new Date(wallMs).toISOString(),
      high_water_at: new Date(trustedMs).toISOString(),
    });
  }

  #clearSuspicion(): void {
    this.#suspect = false;
    this.logger.info('System clock caught up with the high-water mark; judging license expiry by it again');
  }
}
