import type { Clock } from '../../ports/clock.port.js';
import type { LicenseTelemetry } from '../../ports/license-telemetry.port.js';
import type { Failure } from '../model/errors.js';
import type { LicenseSnapshot, LicenseState } from '../model/license-state.js';
import { trusted, type SafeText } from '../model/safe-text.js';
import { tierName, type Tier } from '../model/tier.js';
import type { License } from '../model/license.js';
import type { Logger } from '../../ports/logger.port.js';
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
  /** The failure is one no retry can fix (a malformed API key, a key the backend rejected): no backoff. */
  readonly permanent: boolean;
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
  #stopped = false;
  #status: RefreshStatus = { lastAttemptAt: null, lastOutcome: null, lastError: null };
  readonly #listeners = new Set<(outcome: RefreshOutcome) => void>();

  constructor(
    private readonly resolveLicense: ResolveLicense,
    private readonly state: LicenseState,
    private readonly clock: Clock,
    private readonly telemetry: LicenseTelemetry,
    private readonly logger: Logger,
  ) {}

  execute(): Promise<RefreshOutcome> {
    if (this.#stopped) return Promise.resolve(this.#stoppedOutcome());
    this.#inFlight ??= this.#refresh().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  /**
   * No resolution starts after this (the agent stops): a refresh asked later — by a reload or an
   * install still finishing — answers `skipped` with the license in force, without a backend call.
   * One already running goes on (see `inFlight`).
   */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * A refresh that starts after this call: after the license sources changed (an install, a
   * reload), joining one already running would report what the old sources gave. Callers that
   * arrive while such a refresh waits share the next one.
   */
  async executeAfterChange(): Promise<RefreshOutcome> {
    const running = this.#inFlight;
    if (running !== null) await running.catch(() => undefined);
    return this.execute();
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

  #stoppedOutcome(): RefreshOutcome {
    const snapshot = this.state.current();
    const now = this.clock.now();
    return { status: 'skipped', previousTier: snapshot.license.tier, snapshot, failure: null, permanent: false, retryAfterMs: null, finishedAt: now };
  }

  async #refresh(): Promise<RefreshOutcome> {
    const previous = this.state.current().license;
    const previousTier = previous.tier;
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
      permanent: result.backendFailedPermanently,
      retryAfterMs: result.retryAfterMs,
      finishedAt: this.clock.now(),
    };
    const failedBefore = this.#status.lastOutcome === 'failed';
    this.#status = {
      lastAttemptAt: startedAt,
      lastOutcome: outcome.status,
      lastError: failure === null ? null : trusted(`${failure.code}: ${failure.message}`),
    };
    logRenewal(this.logger, outcome, previous, startedAt, failedBefore);
    this.telemetry.refreshFinished({ outcome: outcome.status, reason: failure?.code ?? null });
    for (const listener of this.#listeners) listener(outcome);
    return outcome;
  }
}

/**
 * INFO `License renewed: …` when a refresh brought a license that was in grace, or the first
 * success after failures; DEBUG when a refresh changed nothing worth an operator's attention (a
 * tier change has its own INFO line from the resolution).
 */
function logRenewal(logger: Logger, outcome: RefreshOutcome, previous: License, startedAt: Date, failedBefore: boolean): void {
  if (outcome.status === 'failed') return;
  const now = outcome.snapshot.license;
  const wasInGrace = previous.expiresAtMs < startedAt.getTime();
  if (outcome.status === 'refreshed' && (wasInGrace || failedBefore)) {
    logger.info(`License renewed: ${describe(now)}`, { was_in_grace: wasInGrace, after_failures: failedBefore });
  } else if (now.tier === previous.tier) {
    logger.debug(`License refresh ${outcome.status}: ${describe(now)}, nothing changed`);
  }
}

/** The license a refresh put in force, for its log line: `Pro until 2026-12-01T00:00:00.000Z`. */
function describe(license: License): string {
  return license.expiresAt === null ? tierName(license.tier) : `${tierName(license.tier)} until ${license.expiresAt.toISOString()}`;
}

/** `refreshed` when the API-key step was used; `skipped` when it was skipped or never reached. */
function statusOf(attempts: readonly ResolutionAttempt[]): 'refreshed' | 'skipped' {
  return attempts.some((attempt) => attempt.source === 'api_key' && attempt.outcome === 'used') ? 'refreshed' : 'skipped';
}
