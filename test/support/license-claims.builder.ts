import type { LicenseClaims } from '../../src/domain/model/license.js';
import { DAY } from './fixed-clock.js';

/** Claims of a one-year Pro license issued a day before `now`, with the overrides applied. */
export function aLicenseClaims(now: Date, overrides: Partial<LicenseClaims> = {}): LicenseClaims {
  return {
    licenseId: 'lic-0001',
    tier: 'pro',
    features: null,
    quotas: {},
    trial: false,
    orgName: 'Acme Corp',
    platform: 'PRODUCTION',
    instanceId: null,
    issuedAt: new Date(now.getTime() - DAY),
    expiresAt: new Date(now.getTime() + 365 * DAY),
    notBefore: null,
    gracePeriodDays: null,
    ...overrides,
  };
}
