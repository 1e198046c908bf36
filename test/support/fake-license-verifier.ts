import { LicenseTokenError } from '../../src/domain/model/errors.js';
import type { LicenseClaims, VerifiedLicenseToken } from '../../src/domain/model/license.js';
import { assertLicenseUsable } from '../../src/domain/model/license-validity.js';
import type { Clock } from '../../src/ports/clock.port.js';
import type { LicenseVerifier } from '../../src/ports/license-verifier.port.js';

/**
 * Tokens are opaque strings this fake issued itself; anything else has a "bad signature".
 * Time and binding rules are the domain's own, as in the real verifier.
 */
export class FakeLicenseVerifier implements LicenseVerifier {
  readonly #issued = new Map<string, LicenseClaims>();
  #serial = 0;

  constructor(
    private readonly clock: Clock,
    private readonly context: { gracePeriodMs: number; instanceId: string },
  ) {}

  /** A token that verifies to `claims` (while the time rules allow). */
  issue(claims: LicenseClaims): string {
    this.#serial += 1;
    const jwt = `fake-jwt-${this.#serial}-${claims.tier}`;
    this.#issued.set(jwt, claims);
    return jwt;
  }

  async verify(jwt: string): Promise<VerifiedLicenseToken> {
    const claims = this.#issued.get(jwt);
    if (claims === undefined) throw new LicenseTokenError('LICENSE.SIGNATURE_INVALID', 'license token signature does not verify');
    const gracePeriodMs = assertLicenseUsable(claims, { now: this.clock.now(), ...this.context });
    return {
      jwt,
      gracePeriodMs,
      claims,
      info: { kid: 'fake-kid', jti: null, issuedAt: claims.issuedAt, expiresAt: claims.expiresAt, fingerprint: '0123456789abcdef' },
    };
  }
}
