import { describe, expect, it } from '@jest/globals';
import { createPublicKey, verify } from 'node:crypto';
import { parseJwks, TrustedKeysError } from '../../../src/adapters/jose/trusted-keys.js';
import { generateSigningKey, TEST_ISSUER } from '../../support/signing-keys.js';

/**
 * The fault this closes: a trusted JWKS entry whose "x" is all zeros (y = 0, a point of order 4)
 * loaded silently, and under it the signature R = identity, S = 0 ("0x01" then 63 zero bytes)
 * verifies whenever SHA-512(R || A || M) mod L is a multiple of 4: a quarter of all messages, so
 * anyone forges an Enterprise license in a few tries without any private key (RFC 8032 §5.1.7).
 */
const SMALL_ORDER_JWK = { kty: 'OKP', crv: 'Ed25519', kid: 'next', x: 'A'.repeat(43) };
const IDENTITY_R_ZERO_S = Buffer.concat([Buffer.from([0x01]), Buffer.alloc(63)]).toString('base64url');
const NOW_SECONDS = Date.parse('2026-06-01T00:00:00Z') / 1000;

const base64urlJson = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Enterprise claims, a nonce varied until the identity signature verifies under the order-4 key. Nothing is signed. */
function forgedEnterpriseToken(): { jwt: string; signingInput: string } {
  const header = base64urlJson({ alg: 'EdDSA', kid: SMALL_ORDER_JWK.kid, typ: 'JWT' });
  const orderFourKey = createPublicKey({ key: SMALL_ORDER_JWK, format: 'jwk' });
  for (let nonce = 0; nonce < 256; nonce += 1) {
    const payload = base64urlJson({
      iss: TEST_ISSUER,
      sub: 'lic-forged',
      tier: 'enterprise',
      iat: NOW_SECONDS - 60,
      exp: NOW_SECONDS + 10 * 365 * 86_400,
      jti: `forged-${nonce}`,
    });
    const signingInput = `${header}.${payload}`;
    if (verify(null, Buffer.from(signingInput), orderFourKey, Buffer.from(IDENTITY_R_ZERO_S, 'base64url'))) {
      return { jwt: `${signingInput}.${IDENTITY_R_ZERO_S}`, signingInput };
    }
  }
  throw new Error('test setup: no nonce gave k ≡ 0 (mod 4) in 256 tries');
}

describe('a forged Enterprise token under a small-order trusted key', () => {
  const forgery = forgedEnterpriseToken();

  it('verifies with node:crypto itself: OpenSSL does not refuse small-order keys, so the loader must', () => {
    const orderFourKey = createPublicKey({ key: SMALL_ORDER_JWK, format: 'jwk' });

    expect(verify(null, Buffer.from(forgery.signingInput), orderFourKey, Buffer.from(IDENTITY_R_ZERO_S, 'base64url'))).toBe(true);
  });

  it('is never trusted: the JWKS naming that key is refused when the keys are loaded, naming its kid', () => {
    const jwks = { keys: [generateSigningKey('license-key-2026').jwk, SMALL_ORDER_JWK] };

    let refusal: unknown;
    try {
      parseJwks(jwks, 'license-keys.json');
    } catch (error) {
      refusal = error;
    }

    expect(refusal).toBeInstanceOf(TrustedKeysError);
    expect((refusal as Error).message).toBe(
      'license-keys.json: key "next" is not a valid Ed25519 public key: "x" is a small-order point, under which forged signatures verify',
    );
  });
});
