import { LicenseTokenError } from '../../domain/model/errors.js';
import { knownFeatures, type Feature } from '../../domain/model/feature.js';
import { PLATFORMS, type LicenseClaims, type Platform } from '../../domain/model/license.js';
import { isQuotaName, type QuotaLimit, type QuotaName, type QuotaOverrides } from '../../domain/model/quota.js';
import { parseTier } from '../../domain/model/tier.js';

/**
 * Parses a verified JWT payload into domain claims. Every claim is checked for its type; anything
 * off is `LICENSE.CLAIMS_INVALID` naming the claim (never echoing the token).
 */
export function parseLicenseClaims(payload: Record<string, unknown>): LicenseClaims {
  const tier = parseTier(payload.tier);
  if (tier === undefined) throw invalid('"tier" must be one of community, pro, enterprise');
  return {
    licenseId: requiredString(payload, 'sub'),
    tier,
    features: features(payload.features),
    quotas: quotas(payload.quotas),
    trial: optionalBoolean(payload, 'trial'),
    orgName: optionalString(payload, 'org_name'),
    platform: platform(payload.platform),
    instanceId: optionalString(payload, 'instance_id'),
    issuedAt: numericDate(payload, 'iat', true),
    expiresAt: numericDate(payload, 'exp', true),
    notBefore: payload.nbf === undefined ? null : numericDate(payload, 'nbf', false),
    gracePeriodDays: null,
  };
}

function invalid(reason: string): LicenseTokenError {
  return new LicenseTokenError('LICENSE.CLAIMS_INVALID', `license token claims are invalid: ${reason}`);
}

function numericDate(payload: Record<string, unknown>, name: string, required: boolean): Date {
  const value = payload[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(required && value === undefined ? `"${name}" is required` : `"${name}" must be a NumericDate`);
  }
  const date = new Date(value * 1000);
  if (Number.isNaN(date.getTime())) throw invalid(`"${name}" is out of range`);
  return date;
}

function requiredString(payload: Record<string, unknown>, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string' || value.length === 0) throw invalid(`"${name}" must be a non-empty string`);
  return value;
}

function optionalString(payload: Record<string, unknown>, name: string): string | null {
  const value = payload[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`"${name}" must be a string`);
  return value;
}

function optionalBoolean(payload: Record<string, unknown>, name: string): boolean {
  const value = payload[name];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw invalid(`"${name}" must be a boolean`);
  return value;
}

function features(value: unknown): readonly Feature[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw invalid('"features" must be an array');
  return knownFeatures(value);
}

function quotas(value: unknown): QuotaOverrides {
  if (value === undefined || value === null) return {};
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

function platform(value: unknown): Platform | null {
  if (value === undefined || value === null) return null;
  const upper = typeof value === 'string' ? value.toUpperCase() : undefined;
  const known = PLATFORMS.find((candidate) => candidate === upper);
  if (known === undefined) throw invalid(`"platform" must be one of ${PLATFORMS.join(', ')}`);
  return known;
}
