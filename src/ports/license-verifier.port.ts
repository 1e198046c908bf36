import type { VerifiedLicenseToken } from '../domain/model/license.js';

/**
 * Verifies a license JWT offline: size, algorithm, key id, signature, issuer, claims, times
 * (expiry with the grace period) and instance binding. Fails with `LicenseTokenError`.
 */
export interface LicenseVerifier {
  verify(jwt: string): Promise<VerifiedLicenseToken>;
}
