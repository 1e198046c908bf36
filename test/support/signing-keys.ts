import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';

/** An Ed25519 key pair generated for one test run; `jwk` is its public half with `kid`. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: JWK;
}

export function generateSigningKey(kid = 'test-key-1'): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, use: 'sig', alg: 'EdDSA' };
  return { kid, privateKey, publicKey, jwk };
}

export const jwksOf = (...keys: SigningKey[]) => ({ keys: keys.map((key) => key.jwk) });

export const TEST_ISSUER = 'https://license.test.example';

export interface TokenOptions {
  readonly tier?: string;
  readonly features?: unknown;
  readonly quotas?: unknown;
  readonly trial?: boolean;
  readonly orgName?: string;
  readonly platform?: string;
  readonly instanceId?: string;
  readonly subject?: string;
  readonly issuer?: string;
  readonly jti?: string;
  /** Seconds since the epoch. */
  readonly issuedAt?: number;
  readonly expiresAt?: number;
  readonly notBefore?: number;
  /** Extra or replacement claims, written last. */
  readonly claims?: Record<string, unknown>;
  /** Header overrides (for example another `kid`). */
  readonly header?: Record<string, unknown>;
}

/** A real EdDSA license JWT: a Pro license valid for a year from `now`, with the options applied. */
export async function aLicenseToken(key: SigningKey, options: TokenOptions = {}, now = Date.now()): Promise<string> {
  const nowSeconds = Math.floor(now / 1000);
  const payload: Record<string, unknown> = {
    iss: options.issuer ?? TEST_ISSUER,
    sub: options.subject ?? 'lic-test-0001',
    iat: options.issuedAt ?? nowSeconds - 60,
    exp: options.expiresAt ?? nowSeconds + 365 * 86_400,
    tier: options.tier ?? 'pro',
    trial: options.trial ?? false,
    org_name: options.orgName ?? 'Acme Corp',
    platform: options.platform ?? 'PRODUCTION',
    ...(options.jti === undefined ? {} : { jti: options.jti }),
    ...(options.features === undefined ? {} : { features: options.features }),
    ...(options.quotas === undefined ? {} : { quotas: options.quotas }),
    ...(options.instanceId === undefined ? {} : { instance_id: options.instanceId }),
    ...(options.notBefore === undefined ? {} : { nbf: options.notBefore }),
    ...options.claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT', ...options.header })
    .sign(key.privateKey);
}
