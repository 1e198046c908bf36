import type { Clock } from '../../ports/clock.port.js';
import type { LicenseTelemetry } from '../../ports/license-telemetry.port.js';
import type { Failure } from '../model/errors.js';
import type { LicenseSnapshot, LicenseState } from '../model/license-state.js';
import { trusted, type SafeText } from '../model/safe-text.js';
import type { Tier } from '../model/tier.js';
import type { ResolutionAttempt } from '../model/resolution-trail.js';
import type { ResolveLicense } from '../resolution/resolve-license.js';

/**
 * What a refresh did with the license backend: `refreshed` — it answered with a verified license;
 * `failed` — the API-key step failed, whatever the fall-through then produced; `skipped` — no
 * backend call was made (no API key configured, or a valid static JWT in force ended the chain).
 */
export type RefreshStatusName = 'refreshed' | 'failed' | 'skipped';

export interface RefreshOutcome {
  readonly status: RefreshStatusName;
  readonly previousTier: Tier;
  /** The license in force afterwards. */
  readonly snapshot: LicenseSnapshot;
  readonly failure: Failure | null;
  readonly retryAfterMs: number | null;
  readonly finishedAt: Date;
}

export interface RefreshStatus {
  readonly lastAttemptAt: Date | null;
  readonly lastOutcome: RefreshStatusName | null;
  readonly lastError: SafeText | null;
}

/**
 * Runs the resolution chain again — static JWT, backend, cache, Community — keeping a still-valid
 * license through transient failures (ResolveLicense's rule). Single flight: whoever asks while
 * a refresh runs shares its backend request and its outcome.
 */
export class RefreshLicense {
  #inFlight: Promise<RefreshOutcome> | null = null;
  #status: RefreshStatus = { lastAttemptAt: null, lastOutcome: null, lastError: null };
  readonly #listeners = new Set<(outcome: RefreshOutcome) => void>();

  constructor(
    private readonly resolveLicense: ResolveLicense,
    private readonly state: LicenseState,
    private readonly clock: Clock,
    private readonly telemetry: LicenseTelemetry,
  ) {}

  execute(): Promise<RefreshOutcome> {
    this.#inFlight ??= this.#refresh().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  /** The refresh running now, if any. */
  get inFlight(): Promise<RefreshOutcome> | null {
    return this.#inFlight;
  }

  status(): RefreshStatus {
    return this.#status;
  }

  /** Calls `listener` after every refresh, whoever asked for it. */
  onFinished(listener: (outcome: RefreshOutcome) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #refresh(): Promise<RefreshOutcome> {
    const previousTier = this.state.current().license.tier;
    const startedAt = this.clock.now();
    const result = await this.resolveLicense.execute();
    const { backendFailure } = result;
    const failure: Failure | null =
      backendFailure === null ? null : { code: backendFailure.code ?? trusted('UNKNOWN'), message: backendFailure.message ?? trusted('') };
    const outcome: RefreshOutcome = {
      status: failure === null ? statusOf(result.attempts) : 'failed',
      previousTier,
      snapshot: result.snapshot,
      failure,
      retryAfterMs: result.retryAfterMs,
      finishedAt: this.clock.now(),
    };
    this.#status = {
      lastAttemptAt: startedAt,
      lastOutcome: outcome.status,
      lastError: failure === null ? null : trusted(`${failure.code}: ${failure.message}`),
    };
    this.telemetry.refreshFinished({ outcome: outcome.status, reason: failure?.code ?? null });
    for (const listener of this.#listeners) listener(outcome);
    return outcome;
  }
}

/** `refreshed` when the API-key step was used; `skipped` when it was skipped or never reached. */
function statusOf(attempts: readonly ResolutionAttempt[]): 'refreshed' | 'skipped' {
  return attempts.some((attempt) => attempt.source === 'api_key' && attempt.outcome === 'used') ? 'refreshed' : 'skipped';
}
