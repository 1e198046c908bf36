import type { Failure } from './errors.js';
import type { LicenseSource } from './license.js';
import type { SafeText } from './safe-text.js';

export type AttemptOutcome = 'used' | 'skipped' | 'failed';

/** One step of a resolution: what a source gave, and why not when it gave nothing. */
export interface ResolutionAttempt {
  readonly source: LicenseSource;
  readonly outcome: AttemptOutcome;
  readonly code: SafeText | null;
  readonly message: SafeText | null;
}

/** The attempts of one resolution, in order, and what the backend step's failure allows. */
export class ResolutionTrail {
  readonly #attempts: ResolutionAttempt[] = [];
  #backendFailedTransiently = false;
  #backendRetryAfterMs: number | null = null;

  used(source: LicenseSource, message: SafeText | null = null): void {
    this.#attempts.push({ source, outcome: 'used', code: null, message });
  }

  skipped(source: LicenseSource, message: SafeText): void {
    this.#attempts.push({ source, outcome: 'skipped', code: null, message });
  }

  failed(
    source: LicenseSource,
    failure: Failure,
    options?: { transient?: boolean; retryAfterMs?: number | null },
  ): void {
    this.#attempts.push({ source, outcome: 'failed', code: failure.code, message: failure.message });
    if (source !== 'api_key') return;
    this.#backendFailedTransiently = options?.transient ?? false;
    this.#backendRetryAfterMs = options?.retryAfterMs ?? null;
  }

  get backendFailedTransiently(): boolean {
    return this.#backendFailedTransiently;
  }

  /** How long the backend asked us to wait before the next request, when it said. */
  get backendRetryAfterMs(): number | null {
    return this.#backendRetryAfterMs;
  }

  /** The failure of the API-key step, if it failed. */
  get backendFailure(): ResolutionAttempt | undefined {
    return this.#attempts.find((attempt) => attempt.source === 'api_key' && attempt.outcome === 'failed');
  }

  attempts(): readonly ResolutionAttempt[] {
    return Object.freeze(this.#attempts.map((attempt) => Object.freeze({ ...attempt })));
  }
}
