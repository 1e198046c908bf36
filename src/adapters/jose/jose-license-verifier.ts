import { createHash, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, errors, type ProtectedHeaderParameters } from 'jose';
import { LicenseTokenError, type LicenseTokenErrorCode } from '../../domain/model/errors.js';
import type { VerifiedLicenseToken } from '../../domain/model/license.js';
import { assertLicenseUsable } from '../../domain/model/license-validity.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import { parseLicenseClaims } from './license-claims.js';
import type { TrustedKeys } from './trusted-keys.js';

export const MAX_TOKEN_BYTES = 16 * 1024;

export interface JoseLicenseVerifierOptions {
  readonly keys: TrustedKeys;
  readonly issuer: string;
  readonly instanceId: string;
  readonly gracePeriodMs: number;
}

/**
 * Verifies license JWTs with jose: EdDSA only, key chosen by `kid` among the trusted Ed25519 keys,
 * then issuer and claims, then the domain's time and binding rules. No failure message quotes the token.
 */
export class JoseLicenseVerifier implements LicenseVerifier {
  constructor(
    private readonly options: JoseLicenseVerifierOptions,
    private readonly clock: Clock,
  ) {}

  async verify(jwt: string): Promise<VerifiedLicenseToken> {
    if (Buffer.byteLength(jwt, 'utf8') > MAX_TOKEN_BYTES) {
      throw fail('LICENSE.TOO_LARGE', `license token is larger than ${MAX_TOKEN_BYTES} bytes`);
    }
    const header = protectedHeader(jwt);
    if (header.alg !== 'EdDSA') throw fail('LICENSE.ALGORITHM_REJECTED', `algorithm ${quote(header.alg)} is not accepted; only EdDSA is`);
    const { kid } = header;
    if (typeof kid !== 'string') throw fail('LICENSE.UNKNOWN_KEY', 'license token names no key ("kid")');
    const key = this.options.keys.get(kid);
    if (key === undefined) throw fail('LICENSE.UNKNOWN_KEY', `key ${quote(kid)} is not a trusted license key`);

    const payload = await verifiedPayload(jwt, key);
    if (payload.iss !== this.options.issuer) {
      throw fail('LICENSE.ISSUER_MISMATCH', `issuer ${quote(payload.iss)} is not the expected ${quote(this.options.issuer)}`);
    }
    const claims = parseLicenseClaims(payload);
    const { gracePeriodMs, instanceId } = this.options;
    const effectiveGracePeriodMs = assertLicenseUsable(claims, { now: this.clock.now(), gracePeriodMs, instanceId });
    return {
      gracePeriodMs: effectiveGracePeriodMs,
      jwt,
      claims,
      info: {
        kid,
        jti: typeof payload.jti === 'string' ? payload.jti : null,
        issuedAt: claims.issuedAt,
        expiresAt: claims.expiresAt,
        fingerprint: createHash('sha256').update(jwt).digest('hex').slice(0, 16),
      },
    };
  }
}

function protectedHeader(jwt: string): ProtectedHeaderParameters {
  if (jwt.split('.').length !== 3) throw fail('LICENSE.MALFORMED', 'license token is not a compact JWS (three dot-separated parts)');
  try {
    return decodeProtectedHeader(jwt);
  } catch {
    throw fail('LICENSE.MALFORMED', 'license token header is not valid base64url JSON');
  }
}

async function verifiedPayload(jwt: string, key: KeyObject): Promise<Record<string, unknown>> {
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jwt, key, { algorithms: ['EdDSA'] }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw fail('LICENSE.SIGNATURE_INVALID', 'license token signature does not verify');
    }
    throw fail('LICENSE.MALFORMED', `license token is not a valid JWS (${error instanceof errors.JOSEError ? error.code : 'unreadable'})`);
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw fail('LICENSE.MALFORMED', 'license token payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw fail('LICENSE.MALFORMED', 'license token payload is not a JSON object');
  }
  return claims as Record<string, unknown>;
}

function fail(code: LicenseTokenErrorCode, message: string): LicenseTokenError {
  return new LicenseTokenError(code, message);
}

/** Quotes an untrusted header or claim value for a message: bounded and printable. */
function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
