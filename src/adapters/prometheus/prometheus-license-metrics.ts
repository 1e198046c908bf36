import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { LicenseSnapshot } from '../../domain/model/license-state.js';
import { TIERS } from '../../domain/model/tier.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseTelemetry } from '../../ports/license-telemetry.port.js';

export interface LicenseMetricsSource {
  readonly current: () => LicenseSnapshot;
  readonly clock: Clock;
  readonly apiKeyConfigured: boolean;
  /** True while the system clock runs behind the high-water mark of trusted time. */
  readonly clockSuspect: () => boolean;
}

/**
 * Prometheus metrics with prom-client, in a registry of this agent's own. Values derived from the
 * license in force are computed at scrape time; events are counted as they happen.
 *
 * The expiry gauges carry a `tier` label because prom-client always exports an unlabelled gauge
 * (0 after a reset): without the label, Community would look like a license expiring right now.
 */
export class PrometheusLicenseMetrics implements LicenseTelemetry {
  readonly registry = new Registry();
  readonly #refreshes: Counter<'outcome' | 'reason'>;
  readonly #denials: Counter<'kind' | 'name'>;
  readonly #lastSuccess: Gauge;
  readonly #clock: Clock;

  constructor(source: LicenseMetricsSource, options: { readonly processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const secondsFromNow = (date: Date) => (date.getTime() - source.clock.now().getTime()) / 1000;

    new Gauge({
      name: 'softclient4es_license_tier',
      help: 'The license tier in force: 1 for the current tier, 0 for the others.',
      labelNames: ['tier'],
      registers,
      collect() {
        const { tier } = source.current().license;
        for (const candidate of TIERS) this.set({ tier: candidate }, candidate === tier ? 1 : 0);
      },
    });
    new Gauge({
      name: 'softclient4es_license_expiry_seconds',
      help: 'Seconds until the license in force expires (negative once expired); absent for Community.',
      labelNames: ['tier'],
      registers,
      collect() {
        const { expiresAt, tier } = source.current().license;
        this.reset();
        if (expiresAt !== null) this.set({ tier }, secondsFromNow(expiresAt));
      },
    });
    new Gauge({
      name: 'softclient4es_license_grace_end_seconds',
      help: 'Seconds until the end of the grace period of the license in force; absent for Community.',
      labelNames: ['tier'],
      registers,
      collect() {
        const { expiresAt, graceEndsAtMs, tier } = source.current().license;
        this.reset();
        if (expiresAt !== null) this.set({ tier }, secondsFromNow(new Date(graceEndsAtMs)));
      },
    });
    new Gauge({
      name: 'softclient4es_license_degraded',
      help: '1 while a paid license was lost (expired past grace or rejected) and Community runs instead.',
      registers,
      collect() {
        this.set(source.current().degraded ? 1 : 0);
      },
    });
    new Gauge({
      name: 'softclient4es_license_api_key_configured',
      help: '1 when an API key is configured (the license is refreshed from the backend).',
      registers,
      collect() {
        this.set(source.apiKeyConfigured ? 1 : 0);
      },
    });
    new Gauge({
      name: 'softclient4es_license_clock_suspect',
      help: '1 while the system clock runs more than 5 minutes behind the time already seen; expiry is then judged by the high-water mark.',
      registers,
      collect() {
        this.set(source.clockSuspect() ? 1 : 0);
      },
    });
    this.#lastSuccess = new Gauge({
      name: 'softclient4es_license_last_successful_refresh_timestamp_seconds',
      help: 'Unix time of the last refresh whose backend step succeeded; 0 before the first.',
      registers,
    });
    this.#lastSuccess.set(0);
    this.#refreshes = new Counter({
      name: 'softclient4es_license_refresh_attempts_total',
      help: 'License refreshes (start-up, periodic, forced) by outcome and failure reason (a stable error code).',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.#denials = new Counter({
      name: 'softclient4es_license_enforcement_denials_total',
      help: 'Requests refused by license enforcement, by kind (quota or feature) and name.',
      labelNames: ['kind', 'name'],
      registers,
    });
    this.#clock = source.clock;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  refreshFinished({ outcome, reason }: { outcome: 'refreshed' | 'failed' | 'skipped'; reason: string | null }): void {
    this.#refreshes.inc({ outcome, reason: reason ?? 'none' });
    if (outcome === 'refreshed') this.#lastSuccess.set(this.#clock.now().getTime() / 1000);
  }

  enforcementDenied({ kind, name }: { kind: 'quota' | 'feature'; name: string }): void {
    this.#denials.inc({ kind, name });
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
