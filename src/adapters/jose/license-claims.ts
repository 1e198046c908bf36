import { LicenseTokenError } from '../../domain/model/errors.js';
import { knownFeatures, type Feature } from '../../domain/model/feature.js';
import { PLATFORMS, type LicenseClaims, type Platform } from '../../domain/model/license.js';
import { isQuotaName, type QuotaLimit, type QuotaName, type QuotaOverrides } from '../../domain/model/quota.js';
import { parseTier } from '../../domain/model/tier.js';
import type { Logger } from '../../ports/logger.port.js';
import { quote } from './quote.js';

/** The last instant a Date can hold (ECMA-262 §21.4.1.22), in ms: 100 000 000 days after the epoch. */
const MAX_DATE_MS = 8.64e15;
/** `grace_period_days` is at most this; `exp` must leave room for it, so that the end of grace is a date. */
const MAX_GRACE_DAYS = 365;
const DAY_MS = 86_400_000;

/**
 * Parses a verified JWT payload (RFC 7519 §4) into domain claims. Every claim is checked for its
 * type; anything off is `LICENSE.CLAIMS_INVALID` naming the claim, never echoing the token.
 *
 * - Required: `sub` (non-empty string), `tier` (community, pro, enterprise; any case), `iat`, `exp`.
 * - Optional, where JSON `null` means absent: `trial` (boolean; absent = false), `org_name`,
 *   `instance_id` (strings), `platform`, `features`, `quotas`, `nbf`, `grace_period_days`.
 * - NumericDates (RFC 7519 §2: non-negative, fractions allowed) must be dates: `value * 1000` at most
 *   8.64e15 ms, and for `exp` 365 days below that, so that no Invalid Date can ever come out.
 * - `features` and `platform` are read as the original product reads them (`originalName`): trimmed
 *   of spaces and ASCII controls, features lower-cased and the platform upper-cased before matching.
 *   Unknown feature names are ignored; an unknown platform is ignored (null) with a WARN to `logger`
 *   (the verifier gives one only on a token's first read, so that the WARN comes once per token).
 *
 * @throws LicenseTokenError `LICENSE.CLAIMS_INVALID`.
 */
export function parseLicenseClaims(payload: Record<string, unknown>, logger?: Logger): LicenseClaims {
  const tier = parseTier(payload.tier);
  if (tier === undefined) throw invalid('"tier" must be one of community, pro, enterprise');
  return {
    licenseId: requiredString(payload, 'sub'),
    tier,
    features: features(payload.features),
    quotas: quotas(payload.quotas),
    trial: optionalBoolean(payload, 'trial'),
    orgName: optionalString(payload, 'org_name'),
    platform: platform(payload.platform, logger),
    instanceId: optionalString(payload, 'instance_id'),
    issuedAt: numericDate(payload, 'iat'),
    expiresAt: numericDate(payload, 'exp', MAX_GRACE_DAYS * DAY_MS),
    notBefore: isAbsent(payload.nbf) ? null : numericDate(payload, 'nbf'),
    gracePeriodDays: gracePeriodDays(payload.grace_period_days),
  };
}

/**
 * The token's `jti` (RFC 7519 §4.1.7): a string, or null when absent or JSON `null`.
 *
 * @throws LicenseTokenError `LICENSE.CLAIMS_INVALID` for any other type.
 */
export function tokenId(payload: Record<string, unknown>): string | null {
  return optionalString(payload, 'jti');
}

function invalid(reason: string): LicenseTokenError {
  return new LicenseTokenError('LICENSE.CLAIMS_INVALID', `license token claims are invalid: ${reason}`);
}

const isAbsent = (value: unknown): value is null | undefined => value === undefined || value === null;

/** A NumericDate as a Date, `headroomMs` of which must still be representable after it. */
function numericDate(payload: Record<string, unknown>, name: string, headroomMs = 0): Date {
  const value = payload[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(isAbsent(value) ? `"${name}" is required` : `"${name}" must be a NumericDate`);
  }
  if (value * 1000 > MAX_DATE_MS - headroomMs) throw invalid(`"${name}" is out of range`);
  return new Date(value * 1000);
}

function gracePeriodDays(value: unknown): number | null {
  if (isAbsent(value)) return null;
  if (!(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_GRACE_DAYS)) {
    throw invalid(`"grace_period_days" must be an integer from 0 to ${MAX_GRACE_DAYS}`);
  }
  return value as number;
}

function requiredString(payload: Record<string, unknown>, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string' || value.length === 0) throw invalid(`"${name}" must be a non-empty string`);
  return value;
}

function optionalString(payload: Record<string, unknown>, name: string): string | null {
  const value = payload[name];
  if (isAbsent(value)) return null;
  if (typeof value !== 'string') throw invalid(`"${name}" must be a string`);
  return value;
}

function optionalBoolean(payload: Record<string, unknown>, name: string): boolean {
  const value = payload[name];
  if (isAbsent(value)) return false;
  if (typeof value !== 'boolean') throw invalid(`"${name}" must be a boolean`);
  return value;
}

/**
 * A name trimmed as the original product (Scala, `s.trim`: Java's `String.trim`) trims it: every
 * character up to U+0020 — spaces, tabs, line ends, other ASCII controls — at either end, and
 * nothing else (a no-break space stays, as it does there, so the name stays unknown).
 */
function originalName(name: string): string {
  let start = 0;
  let end = name.length;
  while (start < end && name.charCodeAt(start) <= 0x20) start += 1;
  while (end > start && name.charCodeAt(end - 1) <= 0x20) end -= 1;
  return name.slice(start, end);
}

function features(value: unknown): readonly Feature[] | null {
  if (isAbsent(value)) return null;
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) throw invalid('"features" must be an array of strings');
  return knownFeatures(value.map((name: string) => originalName(name).toLowerCase()));
}

function quotas(value: unknown): QuotaOverrides {
  if (isAbsent(value)) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('"quotas" must be an object');
  const overrides: Partial<Record<QuotaName, QuotaLimit>> = {};
  for (const [name, limit] of Object.entries(value)) {
    if (!isQuotaName(name)) continue; // unknown quotas are ignored, like unknown features
    if (limit !== null && !(Number.isSafeInteger(limit) && limit >= 0)) {
      throw invalid(`quota "${name}" must be a non-negative integer or null`);
    }
    overrides[name] = limit;
  }
  return overrides;
}

function platform(value: unknown, logger: Logger | undefined): Platform | null {
  if (isAbsent(value)) return null;
  if (typeof value !== 'string') throw invalid(`"platform" must be a string, one of ${PLATFORMS.join(', ')}`);
  // Upper case, as the original compares platforms (`s.trim.toUpperCase`): "ſtaging" is STAGING there too.
  const name = originalName(value).toUpperCase();
  const known = PLATFORMS.find((candidate) => candidate === name);
  if (known === undefined) logger?.warn(`License token platform ${quote(value)} is not one of ${PLATFORMS.join(', ')}; ignored`);
  return known ?? null;
}
