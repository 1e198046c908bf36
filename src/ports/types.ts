import type { ServiceIdentifier } from 'inversify';
import type { ExpireLicense } from '../domain/expiry/expire-license.js';
import type { GraceWarnings } from '../domain/expiry/grace-warnings.js';
import type { LicenseState } from '../domain/model/license-state.js';
import type { TextGate } from '../domain/model/safe-text.js';
import type { ForceRefresh } from '../domain/refresh/force-refresh.js';
import type { RefreshLicense } from '../domain/refresh/refresh-license.js';
import type { ResolveLicense } from '../domain/resolution/resolve-license.js';
import type { UsageCounters } from '../domain/telemetry/usage-counters.js';
import type { CurrentLicenseSources } from '../domain/model/license-sources.js';
import type { AdoptSharedLicense } from '../domain/fleet/adopt-shared-license.js';
import type { UsageQuotas } from '../domain/enforcement/usage-quota.js';
import type { Clock, MonotonicClock } from './clock.port.js';
import type { FleetMembership, FleetView } from './fleet-membership.port.js';
import type { LeaseCoordinator } from './lease-coordinator.port.js';
import type { RefreshRelay } from './refresh-relay.port.js';
import type { SharedLicenseStore } from './shared-license-store.port.js';
import type { HighWaterMarkStore } from './high-water-mark-store.port.js';
import type { InstanceIdStore } from './instance-id-store.port.js';
import type { InstalledLicenseStore } from './installed-license-store.port.js';
import type { HostFingerprint } from './host-fingerprint.port.js';
import type { LicenseCache } from './license-cache.port.js';
import type { LicenseTelemetry } from './license-telemetry.port.js';
import type { LicenseVerifier } from './license-verifier.port.js';
import type { Logger } from './logger.port.js';
import type { Timers } from './timers.port.js';
import type { TokenBackend } from './token-backend.port.js';
import type { TrustedTime } from './trusted-time.port.js';

/**
 * A service identifier that carries the type bound to it: `bind(TYPES.TokenBackend)` only accepts a
 * `TokenBackend`, and `get(TYPES.TokenBackend)` returns one. At run time it is a plain symbol.
 */
const id = <T>(name: string): ServiceIdentifier<T> => Symbol.for(`softclient4es.${name}`);

/**
 * Inversify service identifiers, all in one place. A host replaces an adapter by binding its own
 * implementation to the port's identifier in a container module of its own.
 */
export const TYPES = {
  // ports
  /** The clock licenses are judged by (the high-water clock over `WallClock`). */
  Clock: id<Clock>('Clock'),
  /** The system's wall clock, as the `system` module binds it. */
  WallClock: id<Clock>('WallClock'),
  /** Optional: `performance.now()` when the `system` module binds none. */
  MonotonicClock: id<MonotonicClock>('MonotonicClock'),
  TrustedTime: id<TrustedTime>('TrustedTime'),
  HighWaterMarkStore: id<HighWaterMarkStore>('HighWaterMarkStore'),
  Logger: id<Logger>('Logger'),
  TokenBackend: id<TokenBackend>('TokenBackend'),
  LicenseCache: id<LicenseCache>('LicenseCache'),
  LicenseVerifier: id<LicenseVerifier>('LicenseVerifier'),
  InstanceIdStore: id<InstanceIdStore>('InstanceIdStore'),
  /** The license installed with `PUT /admin/license`; optional: without it nothing can be installed (PUT answers 500 `license_not_saved`, DELETE 404). */
  InstalledLicenseStore: id<InstalledLicenseStore>('InstalledLicenseStore'),
  /** Names the machine, for clone detection of the instance record. */
  HostFingerprint: id<HostFingerprint>('HostFingerprint'),
  Timers: id<Timers>('Timers'),
  LicenseTelemetry: id<LicenseTelemetry>('LicenseTelemetry'),
  // fleet mode only (DESIGN §11): bound by the fleet module
  LeaseCoordinator: id<LeaseCoordinator>('LeaseCoordinator'),
  SharedLicenseStore: id<SharedLicenseStore>('SharedLicenseStore'),
  RefreshRelay: id<RefreshRelay>('RefreshRelay'),
  FleetMembership: id<FleetMembership>('FleetMembership'),
  /** This member's place in its fleet; unbound when fleet mode is off. */
  Fleet: id<FleetView>('Fleet'),
  AdoptSharedLicense: id<AdoptSharedLicense>('AdoptSharedLicense'),
  // values and services the composition root derives from them
  /** The `AgentConfig`; a plain symbol, typed where it is bound (`src/app`): a port does not know the app. */
  Config: Symbol.for('softclient4es.Config'),
  TextGate: id<TextGate>('TextGate'),
  InstanceId: id<string>('InstanceId'),
  AdminToken: id<string | null>('AdminToken'),
  LicenseState: id<LicenseState>('LicenseState'),
  /** The static JWT, installed JWT and API key in force: replaced by a reload or an install. */
  LicenseSources: id<CurrentLicenseSources>('LicenseSources'),
  GraceWarnings: id<GraceWarnings>('GraceWarnings'),
  ResolveLicense: id<ResolveLicense>('ResolveLicense'),
  RefreshLicense: id<RefreshLicense>('RefreshLicense'),
  ForceRefresh: id<ForceRefresh>('ForceRefresh'),
  ExpireLicense: id<ExpireLicense>('ExpireLicense'),
  /** The usage counters sent with the token request (DESIGN §12); its `observeUsage` takes usage changes. */
  UsageCounters: id<UsageCounters>('UsageCounters'),
  /** What each quota has in use in this process (usage quotas, concurrency), shared by gates, status and metrics. */
  UsageQuotas: id<UsageQuotas>('UsageQuotas'),
  /** A `MetricsExposition` (`src/adapters/express/metrics-handler.ts`); a plain symbol, typed where it is bound. */
  Metrics: Symbol.for('softclient4es.Metrics'),
} as const;
