/**
 * Inversify service identifiers, all in one place. A host replaces an adapter by binding its own
 * implementation to the port's identifier in a container module of its own.
 */
export const TYPES = {
  // ports
  /** The clock licenses are judged by (the high-water clock over `WallClock`). */
  Clock: Symbol.for('softclient4es.Clock'),
  /** The system's wall clock, as the `system` module binds it. */
  WallClock: Symbol.for('softclient4es.WallClock'),
  TrustedTime: Symbol.for('softclient4es.TrustedTime'),
  HighWaterMarkStore: Symbol.for('softclient4es.HighWaterMarkStore'),
  Logger: Symbol.for('softclient4es.Logger'),
  TokenBackend: Symbol.for('softclient4es.TokenBackend'),
  LicenseCache: Symbol.for('softclient4es.LicenseCache'),
  LicenseVerifier: Symbol.for('softclient4es.LicenseVerifier'),
  InstanceIdStore: Symbol.for('softclient4es.InstanceIdStore'),
  Timers: Symbol.for('softclient4es.Timers'),
  LicenseTelemetry: Symbol.for('softclient4es.LicenseTelemetry'),
  // values and services the composition root derives from them
  Config: Symbol.for('softclient4es.Config'),
  TextGate: Symbol.for('softclient4es.TextGate'),
  InstanceId: Symbol.for('softclient4es.InstanceId'),
  AdminToken: Symbol.for('softclient4es.AdminToken'),
  LicenseState: Symbol.for('softclient4es.LicenseState'),
  GraceWarnings: Symbol.for('softclient4es.GraceWarnings'),
  ResolveLicense: Symbol.for('softclient4es.ResolveLicense'),
  RefreshLicense: Symbol.for('softclient4es.RefreshLicense'),
  ForceRefresh: Symbol.for('softclient4es.ForceRefresh'),
  ExpireLicense: Symbol.for('softclient4es.ExpireLicense'),
  Metrics: Symbol.for('softclient4es.Metrics'),
} as const;
