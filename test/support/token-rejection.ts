import { expect } from '@jest/globals';
import { LicenseTokenError } from '../../src/domain/model/errors.js';
import type { LicenseVerifier } from '../../src/ports/license-verifier.port.js';

/** Shorter token parts ("a", "b") could appear in any sentence; longer ones only by quoting the token. */
const SHORTEST_QUOTABLE_PART = 16;

/**
 * The `LicenseTokenError` that `verifier` rejects `jwt` with. Fails the test when the token verifies
 * or the failure is anything else, and checks that the message quotes neither the token nor any part of it.
 */
export async function rejectionOf(verifier: LicenseVerifier, jwt: string): Promise<LicenseTokenError> {
  let licenseId: string;
  try {
    licenseId = (await verifier.verify(jwt)).claims.licenseId;
  } catch (error) {
    if (!(error instanceof LicenseTokenError)) {
      throw new Error(`expected a LicenseTokenError, got ${String(error)}`, { cause: error });
    }
    for (const part of [jwt, ...jwt.split('.')].filter((text) => text.length >= SHORTEST_QUOTABLE_PART)) {
      expect(error.message).not.toContain(part);
    }
    return error;
  }
  throw new Error(`expected the token to be rejected, but it verified (license "${licenseId}")`);
}
