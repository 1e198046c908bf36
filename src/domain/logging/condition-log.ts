import type { Clock } from '../../ports/clock.port.js';
import type { LogFields, Logger } from '../../ports/logger.port.js';

/** How often a transient condition that goes on is logged again at its level (with a count). */
export const TRANSIENT_REPEAT_MS = 10 * 60_000;

/**
 * `permanent`: nothing changes until the operator acts (a malformed or revoked API key): logged at
 * its level once, then at DEBUG while it persists. `transient`: it may pass (the backend is down):
 * logged on its first occurrence, then at most once per `TRANSIENT_REPEAT_MS` at its level with
 * how often it happened meanwhile, otherwise at DEBUG.
 */
export type ConditionKind = 'permanent' | 'transient';

/**
 * Keeps a failing condition from repeating the same WARN or ERROR on every retry, and says when it
 * is over (DESIGN §7, amended 2026-11-30). One condition at a time, identified by a key (an error
 * code): a different key is a new condition, logged at once.
 */
export class ConditionLog {
  #active: { key: string; lastLoggedAt: number; unlogged: number } | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly repeatEveryMs = TRANSIENT_REPEAT_MS,
  ) {}

  report(key: string, kind: ConditionKind, level: 'warn' | 'error', message: string, fields: LogFields = {}): void {
    const now = this.clock.now().getTime();
    const active = this.#active;
    const repeat = active !== null && active.key === key;
    if (repeat && (kind === 'permanent' || now - active.lastLoggedAt < this.repeatEveryMs)) {
      active.unlogged += 1;
      this.logger.debug(message, { ...fields, repeated: true });
      return;
    }
    this.logger[level](message, repeat && active.unlogged > 0 ? { ...fields, repeated_since_last_log: active.unlogged } : fields);
    this.#active = { key, lastLoggedAt: now, unlogged: 0 };
  }

  /** Ends the condition: logs `message` at INFO when there was one; true when there was. */
  recovered(message: string, fields: LogFields = {}): boolean {
    if (this.#active === null) return false;
    this.#active = null;
    this.logger.info(message, fields);
    return true;
  }
}
