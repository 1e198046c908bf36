import { assessExpiry, daysUntil } from '../../domain/model/grace.js';
import type { LicenseSnapshot } from '../../domain/model/license-state.js';
import type { SafeText, TextGate } from '../../domain/model/safe-text.js';
import { tierName, type TierName } from '../../domain/model/tier.js';
import type { Feature } from '../../domain/model/feature.js';
import type { License, LicenseSource, Platform } from '../../domain/model/license.js';
import type { QuotaName, Quotas } from '../../domain/model/quota.js';
import type { EnforcementMode, QuotaUsage } from '../../domain/enforcement/usage-quota.js';
import type { ResolutionAttempt } from '../../domain/model/resolution-trail.js';
import type { FleetRole, FleetStatus } from '../../ports/fleet-membership.port.js';

export interface RefreshInfo {
  readonly enabled: boolean;
  readonly lastAttemptAt: Date | null;
  readonly lastOutcome: 'refreshed' | 'failed' | 'skipped' | null;
  readonly lastError: SafeText | null;
  readonly nextAt: Date | null;
}

export interface StatusContext {
  readonly now: Date;
  readonly clock: { readonly suspect: boolean; readonly highWaterAt: Date };
  readonly instanceId: string;
  /** `host:port` of the proxy in the way to the backend; null: direct. */
  readonly proxy: SafeText | null;
  readonly refresh: RefreshInfo;
  /** Null when fleet mode is off. */
  readonly fleet: FleetStatus | null;
  /** Clone detection of the instance record (false when the store cannot tell). */
  readonly instance: { readonly cloned: boolean };
  /** The last configuration reload (SIGHUP). */
  readonly reload: { readonly lastAt: Date | null; readonly lastError: SafeText | null };
  readonly enforcementMode: EnforcementMode;
  /** Each quota's usage in this process next to the limit of the license in force. */
  readonly usage: Readonly<Record<QuotaName, QuotaUsage>>;
  /** What the license's own text (`sub`, `org_name`, `jti`) passes before it is shown. */
  readonly gate: TextGate;
}

/** The body of `GET /admin/license` (DESIGN §6, `LicenseStatus` in openapi.yaml). Dates are ISO-8601. */
export interface LicenseStatusBody {
  readonly tier: TierName;
  readonly trial: boolean;
  readonly degraded: boolean;
  readonly source: LicenseSource;
  readonly license_id: SafeText | null;
  readonly org_name: SafeText | null;
  readonly platform: Platform | null;
  readonly features: readonly Feature[];
  readonly quotas: Quotas;
  /** Per quota: the units in use in this process, the limit (null: unlimited) and the overage above it. */
  readonly usage: Readonly<Record<QuotaName, QuotaUsage>>;
  /** `enforce`, or `shadow` (gates let everything through and mark what they would refuse). */
  readonly enforcement_mode: EnforcementMode;
  readonly expires_at: string | null;
  readonly days_remaining: number | null;
  /** The effective grace period of the license in force, in days; null for Community. */
  readonly grace_period_days: number | null;
  readonly grace: {
    readonly status: 'none' | 'early' | 'mid';
    readonly days_expired: number | null;
    readonly days_remaining: number | null;
  };
  readonly instance_id: string;
  readonly clock: { readonly suspect: boolean; readonly high_water_at: string };
  /** The proxy (`host:port`) the backend is reached through, or null for a direct connection. */
  readonly proxy: string | null;
  readonly refresh: {
    readonly enabled: boolean;
    readonly last_attempt_at: string | null;
    readonly last_outcome: RefreshInfo['lastOutcome'];
    readonly last_error: string | null;
    readonly next_at: string | null;
  };
  readonly resolution: readonly ResolutionAttempt[];
  /** This member's place in its fleet (DESIGN §11); null when fleet mode is off. */
  readonly fleet: {
    readonly id: string;
    readonly connected: boolean;
    readonly role: FleetRole;
    readonly members: number;
    readonly last_sync_at: string | null;
  } | null;
  readonly token: { readonly kid: string; readonly jti: SafeText | null; readonly iat: number; readonly exp: number; readonly fingerprint: string } | null;
  /** `cloned`: the instance record was made on another host (a copied cache directory), seen at start. */
  readonly instance: { readonly cloned: boolean };
  /** The last configuration reload (SIGHUP): when, and why it kept the previous set (null: it did not). */
  readonly reload: { readonly last_at: string | null; readonly last_error: string | null };
}

/** The part of the status that describes one license (`licenseFields`). */
export type LicenseFields = Pick<
  LicenseStatusBody,
  | 'tier'
  | 'trial'
  | 'source'
  | 'license_id'
  | 'org_name'
  | 'platform'
  | 'features'
  | 'quotas'
  | 'expires_at'
  | 'days_remaining'
  | 'grace_period_days'
  | 'grace'
  | 'token'
>;

/** `GET /admin/license`: the license in force, in the snake_case shape of the admin API contract. */
export function licenseStatusBody(
  snapshot: LicenseSnapshot,
  { now, clock, instanceId, proxy, refresh, fleet, instance, reload, enforcementMode, usage, gate }: StatusContext,
): LicenseStatusBody {
  const fields = licenseFields(snapshot.license, now, gate);
  return {
    tier: fields.tier,
    trial: fields.trial,
    degraded: snapshot.degraded,
    source: fields.source,
    license_id: fields.license_id,
    org_name: fields.org_name,
    platform: fields.platform,
    features: fields.features,
    quotas: fields.quotas,
    usage,
    enforcement_mode: enforcementMode,
    expires_at: fields.expires_at,
    days_remaining: fields.days_remaining,
    grace_period_days: fields.grace_period_days,
    grace: fields.grace,
    instance_id: instanceId,
    clock: { suspect: clock.suspect, high_water_at: clock.highWaterAt.toISOString() },
    proxy,
    refresh: {
      enabled: refresh.enabled,
      last_attempt_at: refresh.lastAttemptAt?.toISOString() ?? null,
      last_outcome: refresh.lastOutcome,
      last_error: refresh.lastError,
      next_at: refresh.nextAt?.toISOString() ?? null,
    },
    resolution: snapshot.resolution,
    fleet:
      fleet === null
        ? null
        : { id: fleet.id, connected: fleet.connected, role: fleet.role, members: fleet.members, last_sync_at: fleet.lastSyncAt?.toISOString() ?? null },
    token: fields.token,
    instance: { cloned: instance.cloned },
    reload: { last_at: reload.lastAt?.toISOString() ?? null, last_error: reload.lastError },
  };
}

/**
 * What the status says about one license judged at `now` (expiry, days remaining, grace), in the
 * contract's snake_case: shared by `GET /admin/license` and the CLI's `verify --json`. The token's
 * own text (`sub`, `org_name`, `jti`) is outside input like any other (DESIGN §7): it passes `gate`.
 */
export function licenseFields(license: License, now: Date, gate: TextGate): LicenseFields {
  const expiry = license.expiresAt === null ? null : assessExpiry(license.expiresAt, now, license.gracePeriodMs);
  const inGrace = expiry?.status === 'early_grace' || expiry?.status === 'mid_grace';
  return {
    tier: tierName(license.tier),
    trial: license.trial,
    source: license.source,
    license_id: gate.passOptional(license.licenseId),
    org_name: gate.passOptional(license.orgName),
    platform: license.platform,
    features: license.features,
    quotas: license.quotas,
    expires_at: license.expiresAt?.toISOString() ?? null,
    days_remaining: license.expiresAt === null ? null : daysUntil(license.expiresAt, now),
    grace_period_days: license.token === null ? null : license.gracePeriodMs / 86_400_000,
    grace: {
      status: !inGrace ? 'none' : expiry.status === 'early_grace' ? 'early' : 'mid',
      days_expired: inGrace ? expiry.daysExpired : null,
      days_remaining: inGrace ? expiry.graceDaysRemaining : null,
    },
    token:
      license.token === null
        ? null
        : {
            kid: license.token.kid,
            jti: gate.passOptional(license.token.jti),
            iat: license.token.issuedAt.getTime() / 1000,
            exp: license.token.expiresAt.getTime() / 1000,
            fingerprint: license.token.fingerprint,
          },
  };
}
