import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { ENFORCEMENT_MODES, type EnforcementMode, type QuotaUsage } from '../../domain/enforcement/usage-quota.js';
import type { LicenseSource } from '../../domain/model/license.js';
import type { QuotaName } from '../../domain/model/quota.js';
import type { LicenseSnapshot } from '../../domain/model/license-state.js';
import { TIERS } from '../../domain/model/tier.js';
import type { Clock } from '../../ports/clock.port.js';
import type { FleetRole, FleetView } from '../../ports/fleet-membership.port.js';
import type { LicenseTelemetry } from '../../ports/license-telemetry.port.js';

export interface LicenseMetricsSource {
  readonly current: () => LicenseSnapshot;
  readonly clock: Clock;
  readonly apiKeyConfigured: boolean;
  /** Periodic refresh runs: enabled and an API key configured (status `refresh.enabled`). */
  readonly refreshEnabled: boolean;
  /** True while the system clock runs behind the high-water mark of trusted time. */
  readonly clockSuspect: () => boolean;
  /** The agent's version, for `softclient4es_build_info`. */
  readonly version: string;
  /** This member's fleet, in fleet mode: the fleet gauges exist only then. */
  readonly fleet?: FleetView | null;
  /** True when the instance record was found to come from another host at start (clone detection). */
  readonly instanceCloned?: () => boolean;
  /** Each quota's usage next to the limit in force: the usage gauges exist only with it. */
  readonly usage?: () => Readonly<Record<QuotaName, QuotaUsage>>;
  /** `SOFTCLIENT4ES_ENFORCEMENT_MODE`; `enforce` when not given. */
  readonly enforcementMode?: EnforcementMode;
}

const FLEET_ROLES: readonly FleetRole[] = ['leader', 'follower', 'standalone'];

export interface PrometheusMetricsOptions {
  /**
   * A registry of the host's to add the agent's metrics to (one agent per registry); by default the
   * agent has a registry of its own. `render()` exports the whole registry.
   */
  readonly registry?: Registry;
  /**
   * Add prom-client's default process metrics (`process_*`, `nodejs_*`) to the registry. Default:
   * true with the agent's own registry, false with a host's (which has its own, or does not want them).
   */
  readonly processMetrics?: boolean;
}

const SOURCES: readonly LicenseSource[] = ['static', 'api_key', 'cache', 'community'];

/**
 * Prometheus metrics with prom-client, in a registry of this agent's own or the host's. Values
 * derived from the license in force are computed at scrape time; events are counted as they happen.
 *
 * The expiry gauges carry a `tier` label because prom-client always exports an unlabelled gauge
 * (0 after a reset): without the label, Community would look like a license expiring right now.
 */
export class PrometheusLicenseMetrics implements LicenseTelemetry {
  readonly registry: Registry;
  readonly #refreshes: Counter<'outcome' | 'reason'>;
  readonly #denials: Counter<'kind' | 'name' | 'mode'>;
  readonly #lastSuccess: Gauge;
  readonly #clock: Clock;

  constructor(source: LicenseMetricsSource, options: PrometheusMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    const secondsFromNow = (date: Date) => (date.getTime() - source.clock.now().getTime()) / 1000;

    new Gauge({
      name: 'softclient4es_build_info',
      help: 'Always 1; the agent version in the label.',
      labelNames: ['version'],
      registers,
    }).set({ version: source.version }, 1);
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
      name: 'softclient4es_license_source',
      help: 'Where the license in force came from: 1 for its source (static, api_key, cache, community), 0 for the others.',
      labelNames: ['source'],
      registers,
      collect() {
        const { source: current } = source.current().license;
        for (const candidate of SOURCES) this.set({ source: candidate }, candidate === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'softclient4es_license_trial',
      help: '1 while the license in force is a trial license.',
      registers,
      collect() {
        this.set(source.current().license.trial ? 1 : 0);
      },
    });
    new Gauge({
      name: 'softclient4es_license_expiry_timestamp_seconds',
      help: 'Unix time at which the license in force expires (its exp claim); absent for Community.',
      labelNames: ['tier'],
      registers,
      collect() {
        const { expiresAt, tier } = source.current().license;
        this.reset();
        if (expiresAt !== null) this.set({ tier }, expiresAt.getTime() / 1000);
      },
    });
    new Gauge({
      name: 'softclient4es_license_token_lifetime_seconds',
      help: 'Lifetime of the license token in force (exp - iat): 86400 for a 24 h token renewed by refreshes; absent for Community.',
      labelNames: ['tier'],
      registers,
      collect() {
        const { token, tier } = source.current().license;
        this.reset();
        if (token !== null) this.set({ tier }, (token.expiresAt.getTime() - token.issuedAt.getTime()) / 1000);
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
      name: 'softclient4es_license_refresh_enabled',
      help: '1 when periodic refresh runs (enabled and an API key configured): a license from the backend is renewed before it expires.',
      registers,
      collect() {
        this.set(source.refreshEnabled ? 1 : 0);
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
    new Gauge({
      name: 'softclient4es_instance_cloned',
      help: '1 when the instance record in the cache directory was made on another host (a copied cache directory), detected at start.',
      registers,
      collect() {
        this.set(source.instanceCloned?.() === true ? 1 : 0);
      },
    });
    this.#lastSuccess = new Gauge({
      name: 'softclient4es_license_last_successful_refresh_timestamp_seconds',
      help: 'Unix time of the last refresh in which the backend answered with a verified license; 0 before the first.',
      registers,
    });
    this.#lastSuccess.set(0);
    this.#refreshes = new Counter({
      name: 'softclient4es_license_refresh_attempts_total',
      help: 'License refreshes (start-up, periodic, forced) by outcome (refreshed, failed, skipped: no backend call) and failure reason (a stable error code).',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.#denials = new Counter({
      name: 'softclient4es_license_enforcement_denials_total',
      help: 'Requests refused by license enforcement (mode="enforce"), or let through in shadow mode that would have been (mode="shadow"), by kind (quota or feature) and name.',
      labelNames: ['kind', 'name', 'mode'],
      registers,
    });
    const mode = source.enforcementMode ?? 'enforce';
    const modeGauge = new Gauge({
      name: 'softclient4es_license_enforcement_mode',
      help: 'The enforcement mode (SOFTCLIENT4ES_ENFORCEMENT_MODE): 1 for the current one (enforce, or shadow: nothing is refused), 0 for the other.',
      labelNames: ['mode'],
      registers,
    });
    for (const candidate of ENFORCEMENT_MODES) modeGauge.set({ mode: candidate }, candidate === mode ? 1 : 0);
    if (source.usage !== undefined) registerUsageMetrics(source.usage, registers);
    this.#clock = source.clock;
    if (source.fleet !== undefined && source.fleet !== null) registerFleetMetrics(source.fleet, source.clock, registers);
    if (options.processMetrics ?? options.registry === undefined) collectDefaultMetrics({ register: this.registry });
  }

  refreshFinished({ outcome, reason }: { outcome: 'refreshed' | 'failed' | 'skipped'; reason: string | null }): void {
    this.#refreshes.inc({ outcome, reason: reason ?? 'none' });
    if (outcome === 'refreshed') this.#lastSuccess.set(this.#clock.now().getTime() / 1000);
  }

  enforcementDenied({ kind, name, mode }: { kind: 'quota' | 'feature'; name: string; mode: 'enforce' | 'shadow' }): void {
    this.#denials.inc({ kind, name, mode });
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Each quota's usage in this process and how far it is above the limit in force (after a downgrade). */
function registerUsageMetrics(usage: () => Readonly<Record<QuotaName, QuotaUsage>>, registers: Registry[]): void {
  new Gauge({
    name: 'softclient4es_license_quota_usage',
    help: 'Units of each quota in use in this process (agent.usage(quota), running queries for max_concurrent_queries).',
    labelNames: ['quota'],
    registers,
    collect() {
      for (const [quota, { current }] of Object.entries(usage())) this.set({ quota }, current);
    },
  });
  new Gauge({
    name: 'softclient4es_license_quota_overage',
    help: 'Units of each quota in use above the limit of the license in force (a downgrade keeps what exists and refuses new acquisitions); 0 within it.',
    labelNames: ['quota'],
    registers,
    collect() {
      for (const [quota, { overage }] of Object.entries(usage())) this.set({ quota }, overage);
    },
  });
}

/** Fleet mode: this member's role, the members alive, and how long since it last knew it ran the fleet's license. */
function registerFleetMetrics(fleet: FleetView, clock: Clock, registers: Registry[]): void {
  new Gauge({
    name: 'softclient4es_fleet_role',
    help: "This member's fleet role: 1 for the current one (leader: holds the lease and calls the backend; follower; standalone: Redis unreachable), 0 for the others.",
    labelNames: ['role'],
    registers,
    collect() {
      const { role } = fleet.status();
      for (const candidate of FLEET_ROLES) this.set({ role: candidate }, candidate === role ? 1 : 0);
    },
  });
  new Gauge({
    name: 'softclient4es_fleet_connected',
    help: '1 while the fleet store (Redis) answers this member.',
    registers,
    collect() {
      this.set(fleet.status().connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'softclient4es_fleet_members',
    help: 'Fleet members with a live heartbeat, as last counted by this member.',
    registers,
    collect() {
      this.set(fleet.status().members);
    },
  });
  new Gauge({
    name: 'softclient4es_fleet_sync_age_seconds',
    help: "Seconds since this member last knew it ran the fleet's license (a beat as leader, a follower's adoption or check); absent before the first.",
    registers,
    collect() {
      const { lastSyncAt } = fleet.status();
      this.reset();
      if (lastSyncAt !== null) this.set((clock.now().getTime() - lastSyncAt.getTime()) / 1000);
    },
  });
}
