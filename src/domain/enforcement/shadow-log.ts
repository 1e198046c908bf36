import type { Clock } from '../../ports/clock.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { describeDenial, deniedName, type Denial } from './enforcement.js';

const MINUTE_MS = 60_000;

/**
 * The WARN of one gate in shadow mode: what it would have refused, at most once a minute, with the
 * number of would-be refusals left unlogged since the last line (a busy route does not flood the log).
 * Every would-be refusal is still counted by the metrics.
 */
export class ShadowLog {
  #lastLoggedAtMs = Number.NEGATIVE_INFINITY;
  #unlogged = 0;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervalMs = MINUTE_MS,
  ) {}

  /** `refusal`: the answer a gate would have given (402, 429), or the error `acquire` would have thrown. */
  record(denial: Denial, refusal: 402 | 429 | 'QUOTA.EXCEEDED'): void {
    const nowMs = this.clock.now().getTime();
    if (nowMs - this.#lastLoggedAtMs < this.intervalMs) {
      this.#unlogged += 1;
      return;
    }
    this.logger.warn(`Shadow enforcement let through what it would refuse: ${describeDenial(denial)}`, {
      enforcement_mode: 'shadow',
      kind: denial.kind,
      name: deniedName(denial),
      refusal,
      unlogged_since_last: this.#unlogged,
    });
    this.#lastLoggedAtMs = nowMs;
    this.#unlogged = 0;
  }
}
