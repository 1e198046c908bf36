import type { LicenseSource } from './license.js';

export type AttemptOutcome = 'used' | 'skipped' | 'failed';

/** One step of a resolution: what a source gave, and why not when it gave nothing. */
export interface ResolutionAttempt {
  readonly source: LicenseSource;
  readonly outcome: AttemptOutcome;
  readonly code: string | null;
  readonly message: string | null;
}

/** The attempts of one resolution, in order, and what the backend step's failure allows. */
export class ResolutionTrail {
  readonly #attempts: ResolutionAttempt[] = [];
  #backendFailedTransiently = false;
  #backendRetryAfterMs: number | null = null;

  used(source: LicenseSource, message: string | null = null): void {
    this.#attempts.push({ source, outcome: 'used', code: null, message });
  }

  skipped(source: LicenseSource, message: string): void {
    this.#attempts.push({ source, outcome: 'skipped', code: null, message });
  }

  failed(
    source: LicenseSource,
    failure: { code: string; message: string },
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
