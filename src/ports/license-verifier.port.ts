import type { VerifiedLicenseToken } from '../domain/model/license.js';

/**
 * Verifies a license JWT offline: size, algorithm, key id, signature, issuer, claims, times
 * (expiry with the grace period) and instance binding. Fails with `LicenseTokenError`.
 */
export interface LicenseVerifier {
  verify(jwt: string): Promise<VerifiedLicenseToken>;
  /** The `kid`s of the keys it trusts, for the start-up summary; omitted by verifiers that cannot say. */
  readonly trustedKeyIds?: readonly string[];
}
