import type { Request, RequestHandler, Router } from 'express';
import { adminRouter } from '../adapters/express/admin-router.js';
import { shadowDeniedInThisRequest, type ExpressEnforcement, type MeasuredQuota } from '../adapters/express/enforcement.js';
import { healthRouter, type Readiness } from '../adapters/express/health-router.js';
import { licenseStatusBody, type LicenseStatusBody } from '../adapters/express/license-status.body.js';
import { metricsHandler, type MetricsExposition } from '../adapters/express/metrics-handler.js';
import { ShadowLog } from '../domain/enforcement/shadow-log.js';
import { UsageQuota, type UsageQuotas } from '../domain/enforcement/usage-quota.js';
import type { Feature } from '../domain/model/feature.js';
import type { QuotaName } from '../domain/model/quota.js';
import type { LicenseTelemetry } from '../ports/license-telemetry.port.js';
import type { LicenseSnapshot, LicenseState } from '../domain/model/license-state.js';
import type { ForceRefresh } from '../domain/refresh/force-refresh.js';
import type { RefreshLicense, RefreshOutcome } from '../domain/refresh/refresh-license.js';
import type { ExpireLicense } from '../domain/expiry/expire-license.js';
import type { SafeText, TextGate } from '../domain/model/safe-text.js';
import type { Logger } from '../ports/logger.port.js';
import type { AgentConfig } from './config.js';
import type { EnforcementMode } from '../domain/enforcement/usage-quota.js';
import type { ExpiryWatch } from './expiry-watch.js';
import type { FleetMember } from './fleet/fleet-member.js';
import type { HighWaterClock } from './high-water-clock.js';
import { OPENAPI_PATH } from './paths.js';
import type { RefreshScheduler } from './refresh-scheduler.js';
import type { ConfigurationReload, ReloadResult } from './reload/configuration-reload.js';
import type { InstallLicense, InstallResult } from '../domain/installation/install-license.js';
import type { RemoveInstalledLicense, RemoveResult } from '../domain/installation/remove-installed-license.js';
import { trusted } from '../domain/model/safe-text.js';

export interface LicenseAgentParts {
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly clock: HighWaterClock;
  readonly state: LicenseState;
  readonly expireLicense: ExpireLicense;
  readonly refreshLicense: RefreshLicense;
  readonly forceRefresh: ForceRefresh;
  /** This member of a fleet; null when fleet mode is off. */
  readonly fleet: FleetMember | null;
  /** Null when periodic refresh is off (disabled, or no API key). */
  readonly scheduler: RefreshScheduler | null;
  readonly expiryWatch: ExpiryWatch;
  readonly enforcement: ExpressEnforcement;
  /** What each quota has in use in this process. */
  readonly usage: UsageQuotas;
  /** Where `agent.usage(quota).acquire` reports refusals (and would-be refusals in shadow mode). */
  readonly telemetry: LicenseTelemetry;
  readonly metrics: MetricsExposition;
  readonly instanceId: string;
  /** `host:port` of the proxy in the way to the backend; null: direct. */
  readonly proxy: SafeText | null;
  /** Re-reads the secret files and trusted keys (SIGHUP); holds the admin token in force. */
  readonly reload: ConfigurationReload;
  /** Null when no store for installed licenses is bound (a host's own storage module). */
  readonly installLicense: InstallLicense | null;
  readonly removeInstalledLicense: RemoveInstalledLicense | null;
  /** The one sanitiser for outside text (secrets, JWT-shaped text, controls): the status shows the license's own text through it. */
  readonly gate: TextGate;
  /** True when the instance record was found to come from another host at start. */
  readonly instanceCloned: () => boolean;
  /** Settles when the license-source changes under way (a reload, an install, a removal) are done. */
  readonly licenseChangesSettled: () => Promise<unknown>;
  /** Settles when the background cache writes asked for so far are done. */
  readonly cacheWritesSettled: () => Promise<void>;
}

/** How long `stop()` lets an in-flight refresh and background writes finish before giving up on them. */
const STOP_GRACE_MS = 3_000;


/**
 * The agent as a host server sees it: start and stop it, read the license in force, and mount its
 * middleware and routes. Built by `createLicenseAgent`.
 */
export class LicenseAgent {
  #started: Promise<void> | null = null;
  #ready = false;
  #stopped = false;
  #shuttingDown = false;
  #announceShutdown: () => void = () => undefined;
  readonly #shutdown = new Promise<void>((resolve) => {
    this.#announceShutdown = resolve;
  });
  #unsubscribe: (() => void) | null = null;
  readonly #usage = new Map<QuotaName, UsageQuota>();

  constructor(private readonly parts: LicenseAgentParts) {}

  /** Resolves the license for the first time and starts background refresh. Never rejects. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  /** True once the initial resolution has finished. */
  isReady(): boolean {
    return this.#readiness() === 'ready';
  }

  #readiness(): Readiness {
    if (this.#shuttingDown) return 'shutting_down';
    return this.#ready ? 'ready' : 'starting';
  }

  /** The license in force, as one immutable snapshot, judged against the clock now. */
  current(): LicenseSnapshot {
    return this.parts.expireLicense.current();
  }

  /** Runs the resolution chain now (or joins the one running) and reports what it did. */
  refresh(): Promise<RefreshOutcome> {
    return this.parts.refreshLicense.execute();
  }

  /**
   * Pins the license in force on `req.license` for the whole request and flags mid-grace responses,
   * on every route it is mounted in front of. The gates below do the same on their own routes.
   */
  enforce(): RequestHandler {
    return this.parts.enforcement.enforce();
  }

  /** 402 `feature_not_available` unless the license grants `feature`. */
  requireFeature(feature: Feature): RequestHandler {
    return this.parts.enforcement.requireFeature(feature);
  }

  /** 402 `quota_exceeded` when `measure(req)` exceeds the license's `quota`. */
  requireQuota(quota: MeasuredQuota, measure: (req: Request) => number): RequestHandler {
    return this.parts.enforcement.requireQuota(quota, measure);
  }

  /**
   * `max_concurrent_queries` as a usage quota: each request holds one unit until its response ends;
   * 429 with `Retry-After` when the limit is reached.
   */
  limitConcurrency(): RequestHandler {
    return this.parts.enforcement.limitConcurrency();
  }

  /**
   * Reads the secret files (`*_FILE`), the static license file and the trusted keys again, as on
   * SIGHUP: a set that is wholly valid replaces the old one at once and the resolution runs again;
   * one bad file keeps the previous set (ERROR; `GET /admin/license` shows `reload.last_error`).
   * Never rejects for a bad file.
   */
  reload(): Promise<ReloadResult> {
    if (this.#shuttingDown) return Promise.resolve({ kind: 'failed', error: trusted('the agent is shutting down') });
    return this.parts.reload.execute();
  }

  /**
   * Installs a license at runtime, as `PUT /admin/license` does: verified first, stored in the
   * cache directory (`static-license.jwt`, 0600) so that it survives a restart, in force at once as
   * a static license. Refused while `SOFTCLIENT4ES_LICENSE_KEY` is configured (it takes precedence).
   */
  installLicense(jwt: string): Promise<InstallResult> {
    const install = this.parts.installLicense;
    if (install === null) return Promise.resolve(noStore());
    return install.execute(jwt);
  }

  /** Removes the installed license, as `DELETE /admin/license` does; the resolution runs again. */
  removeInstalledLicense(): Promise<RemoveResult> {
    const remove = this.parts.removeInstalledLicense;
    if (remove === null) return Promise.resolve({ kind: 'none' });
    return remove.execute();
  }

  /**
   * 402 `quota_exceeded` with `current`, `requested` and `limit` when `measure(req)` more units
   * would take the usage of `quota` above its limit. A check only: the handler acquires what it
   * creates with `usage(quota).acquire(n)`.
   */
  requireCapacity(quota: QuotaName, measure: (req: Request) => number): RequestHandler {
    return this.parts.enforcement.requireCapacity(quota, measure);
  }

  /**
   * Caps an amount the request did not state (`measure` returns undefined or null) at the limit of
   * `quota`: `req.licenseCap(quota)` returns it and the response carries
   * `X-License-Capped: <quota>=<limit>`. An explicit amount over the limit answers 402.
   */
  capQuota(quota: MeasuredQuota, measure: (req: Request) => number | null | undefined): RequestHandler {
    return this.parts.enforcement.capQuota(quota, measure);
  }

  /** `enforce`, or `shadow` when gates only report what they would refuse (`SOFTCLIENT4ES_ENFORCEMENT_MODE`). */
  get enforcementMode(): EnforcementMode {
    return this.parts.config.enforcementMode;
  }

  /**
   * The usage of `quota` in this process (`set`, `acquire`, `current`), against the limit of the
   * license in force at each call; the same count the gates and `GET /admin/license` see. Throws
   * `TypeError` for a name that is not a quota.
   */
  usage(quota: QuotaName): UsageQuota {
    let usage = this.#usage.get(quota);
    if (usage === undefined) {
      const { usage: quotas, telemetry, config, clock, logger } = this.parts;
      const counter = quotas.counter(quota); // TypeError for an unknown name
      const log = new ShadowLog(clock, logger);
      usage = new UsageQuota(counter, () => quotas.limit(quota), config.enforcementMode, (event) => {
        // In shadow mode a gate of this request (requireCapacity) counted this refusal already.
        if (event.mode === 'shadow' && shadowDeniedInThisRequest(event.quota)) return;
        telemetry.enforcementDenied({ kind: 'quota', name: event.quota, mode: event.mode });
        if (event.mode === 'shadow') {
          const tier = this.current().license.tier;
          log.record({ kind: 'quota', tier, quota: event.quota, limit: event.limit, requested: event.requested, current: event.current }, 'QUOTA.EXCEEDED');
        }
      });
      this.#usage.set(quota, usage);
    }
    return usage;
  }

  /** The body of `GET /admin/license`. */
  status(): LicenseStatusBody {
    const { clock, instanceId, proxy, refreshLicense, scheduler, fleet, reload } = this.parts;
    const refresh = refreshLicense.status();
    const snapshot = this.current();
    return licenseStatusBody(snapshot, {
      now: clock.now(),
      enforcementMode: this.parts.config.enforcementMode,
      usage: this.parts.usage.report(snapshot.license.quotas),
      clock: { suspect: clock.suspect, highWaterAt: clock.mark().highWaterAt },
      instanceId,
      proxy,
      refresh: { ...refresh, enabled: scheduler !== null, nextAt: scheduler?.nextAt ?? null },
      fleet: fleet?.status() ?? null,
      instance: { cloned: this.parts.instanceCloned() },
      reload: reload.status(),
      gate: this.parts.gate,
    });
  }

  /** The admin API, to mount under `/admin`; it requires the admin bearer token. */
  adminRouter(): Router {
    return adminRouter(
      {
        adminToken: () => this.parts.reload.adminToken(),
        licenseStatus: () => this.status(),
        // A caller still waiting when the agent shuts down gets an answer (502 shutting_down),
        // never a dropped connection.
        forceRefresh: () =>
          Promise.race([this.parts.forceRefresh.execute(), this.#shutdown.then(() => ({ kind: 'shutting_down' }) as const)]),
        installLicense: (jwt) => this.installLicense(jwt),
        removeInstalledLicense: () => this.removeInstalledLicense(),
      },
      OPENAPI_PATH,
      this.parts.logger,
    );
  }

  /** `GET /healthz` and `GET /readyz`. */
  healthRouter(): Router {
    return healthRouter(() => this.#readiness());
  }

  /** `GET /metrics` in the Prometheus text format. */
  metricsHandler(): RequestHandler {
    return metricsHandler(this.parts.metrics);
  }

  /**
   * The first step of a graceful shutdown, before the host stops accepting connections: `/readyz`
   * answers 503 from now on (so that a load balancer drains this instance), and callers waiting on
   * a forced refresh get 502 `shutting_down`. `stop()` does this too.
   */
  beginShutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#announceShutdown();
  }

  /**
   * Cancels timers and lets an in-flight refresh finish (for a few seconds at most). The cache is
   * only ever replaced atomically, so stopping at any point leaves no half-written file.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.beginShutdown();
    this.parts.refreshLicense.stop(); // a reload or install still finishing starts no resolution now
    this.parts.scheduler?.stop();
    this.parts.expiryWatch.stop();
    this.#unsubscribe?.();
    // A reload, install or removal under way finishes its files (a stored license is never left
    // half-decided); the resolution it would start does not run (refreshLicense.stop above).
    await settleWithin(this.parts.licenseChangesSettled(), STOP_GRACE_MS);
    const inFlight = this.parts.refreshLicense.inFlight;
    if (inFlight !== null) await settleWithin(inFlight, STOP_GRACE_MS);
    await settleWithin(this.flush(), STOP_GRACE_MS);
    if (this.parts.fleet !== null) await settleWithin(this.parts.fleet.stop(), STOP_GRACE_MS);
  }

  /**
   * Settles once the background writes asked for so far are on disk (the license cache, written
   * behind each install so that a slow disk never holds a license up, and the clock high-water
   * mark). Failures are logged, never thrown.
   */
  async flush(): Promise<void> {
    await Promise.all([this.parts.clock.persist(), this.parts.cacheWritesSettled()]);
  }

  async #start(): Promise<void> {
    const { clock, state } = this.parts;
    void clock.persist();
    this.#unsubscribe = state.onChange(() => void clock.persist()); // refreshes and lapses
    this.parts.scheduler?.start();
    try {
      await (this.parts.fleet?.start() ?? this.parts.refreshLicense.execute());
    } catch (error) {
      this.parts.logger.error('License resolution failed unexpectedly; running in Community mode', { err: error });
    } finally {
      this.#ready = true;
    }
    if (!this.#stopped) this.parts.expiryWatch.start();
  }
}

function noStore(): InstallResult {
  return { kind: 'not_saved', failure: { code: trusted('CACHE.IO_FAILED'), message: trusted('no store for installed licenses is configured') } };
}

async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([promise.then(() => undefined, () => undefined), deadline]);
  clearTimeout(timer);
}
