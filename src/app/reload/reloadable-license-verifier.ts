import type { VerifiedLicenseToken } from '../../domain/model/license.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';

/**
 * The license verifier in force, replaceable as a whole: a reload (SIGHUP) builds a new one from
 * the trusted-key files as they are now (`prepare`, which fails on a bad file and changes
 * nothing), and `replace` swaps it in. Every verification uses the verifier in force when it starts.
 */
export class ReloadableLicenseVerifier implements LicenseVerifier {
  #current: LicenseVerifier;

  constructor(
    initial: LicenseVerifier,
    private readonly build: () => Promise<LicenseVerifier>,
  ) {
    this.#current = initial;
  }

  get trustedKeyIds(): readonly string[] | undefined {
    return this.#current.trustedKeyIds;
  }

  verify(jwt: string): Promise<VerifiedLicenseToken> {
    return this.#current.verify(jwt);
  }

  /** A verifier built from the trusted keys as they are now; not yet in force. Throws as the build does (`TrustedKeysError`). */
  prepare(): Promise<LicenseVerifier> {
    return this.build();
  }

  replace(next: LicenseVerifier): void {
    this.#current = next;
  }
}
