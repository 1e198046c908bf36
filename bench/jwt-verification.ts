import { performance } from 'node:perf_hooks';
import { JoseLicenseVerifier } from '../src/adapters/jose/jose-license-verifier.js';
import { SystemClock } from '../src/adapters/system/system-clock.js';
import { aLicenseToken, generateSigningKey, TEST_ISSUER } from '../test/support/signing-keys.js';

export interface VerificationResult {
  readonly verifications: number;
  readonly perSecond: number;
  readonly microsEach: number;
}

/** Sequential `JoseLicenseVerifier.verify` calls on one real Ed25519-signed license JWT. */
export async function measureJwtVerification(settings: { readonly seconds: number; readonly warmUp: number }): Promise<VerificationResult> {
  const key = generateSigningKey('bench-verify-key');
  const jwt = await aLicenseToken(key, { tier: 'enterprise', orgName: 'Bench Org', jti: 'bench-jti-1' });
  const verifier = new JoseLicenseVerifier(
    { keys: new Map([[key.kid, key.publicKey]]), issuer: TEST_ISSUER, instanceId: 'bench', gracePeriodMs: 0 },
    new SystemClock(),
  );
  for (let i = 0; i < settings.warmUp; i += 1) await verifier.verify(jwt);

  let verifications = 0;
  const started = performance.now();
  const deadline = started + settings.seconds * 1000;
  let now = started;
  while (now < deadline) {
    for (let i = 0; i < 100; i += 1) {
      const token = await verifier.verify(jwt);
      if (token.claims.tier !== 'enterprise') throw new Error('verification returned the wrong claims');
    }
    verifications += 100;
    now = performance.now();
  }
  const seconds = (now - started) / 1000;
  return { verifications, perSecond: verifications / seconds, microsEach: (seconds * 1e6) / verifications };
}
