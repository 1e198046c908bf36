import { createHash, type KeyObject } from 'node:crypto';
// The two entry points used, not jose's index: a third of the modules, for the CLI's start-up.
import * as errors from 'jose/errors';
import { compactVerify } from 'jose/jws/compact/verify';
import { LicenseTokenError, type LicenseTokenErrorCode } from '../../domain/model/errors.js';
import type { VerifiedLicenseToken } from '../../domain/model/license.js';
import { assertLicenseUsable } from '../../domain/model/license-validity.js';
import type { Clock } from '../../ports/clock.port.js';
import type { LicenseVerifier } from '../../ports/license-verifier.port.js';
import type { Logger } from '../../ports/logger.port.js';
import { compactJws, type CompactJws } from './compact-jws.js';
import { LICENSE_ALGORITHM, licenseHeader } from './jws-header.js';
import { parseLicenseClaims, tokenId } from './license-claims.js';
import { quote } from './quote.js';
import type { TrustedKeys } from './trusted-keys.js';

export const MAX_TOKEN_BYTES = 16 * 1024;
/** How many tokens the verifier remembers having read, so that an ignored claim is reported once per token. */
const TOKENS_REMEMBERED = 32;

export interface JoseLicenseVerifierOptions {
  readonly keys: TrustedKeys;
  readonly issuer: string;
  readonly instanceId: string;
  readonly gracePeriodMs: number;
  /**
   * Where claims that are ignored rather than refused (an unknown platform) are reported, at WARN:
   * on a token's first read only, not on every refresh that reads the same token again.
   */
  readonly logger?: Logger;
}

/**
 * Verifies license JWTs (RFC 7519) in this order, each step with its own `LicenseTokenError` code:
 * size (`TOO_LARGE`, 16 KiB), canonical compact form (`MALFORMED`, see `compactJws`), protected
 * header (see `licenseHeader`: `ALGORITHM_REJECTED`, `MALFORMED`, `UNKNOWN_KEY`), key by `kid`
 * among the trusted Ed25519 keys (`UNKNOWN_KEY`), EdDSA signature with jose (`SIGNATURE_INVALID`,
 * RFC 8037), payload a JSON object (`MALFORMED`), issuer (`ISSUER_MISMATCH`), claims
 * (`CLAIMS_INVALID`), then the domain's time and binding rules (`assertLicenseUsable`).
 * No failure message quotes the token.
 */
export class JoseLicenseVerifier implements LicenseVerifier {
  /** Fingerprints of the tokens whose claims were read, oldest first (at most `TOKENS_REMEMBERED`). */
  readonly #read = new Set<string>();

  constructor(
    private readonly options: JoseLicenseVerifierOptions,
    private readonly clock: Clock,
  ) {}

  get trustedKeyIds(): readonly string[] {
    return [...this.options.keys.keys()];
  }

  async verify(jwt: string): Promise<VerifiedLicenseToken> {
    if (Buffer.byteLength(jwt, 'utf8') > MAX_TOKEN_BYTES) {
      throw fail('LICENSE.TOO_LARGE', `license token is larger than ${MAX_TOKEN_BYTES} bytes`);
    }
    const jws = compactJws(jwt);
    const { kid } = licenseHeader(jws);
    const key = this.options.keys.get(kid);
    if (key === undefined) throw fail('LICENSE.UNKNOWN_KEY', `key ${quote(kid)} is not a trusted license key`);

    const payload = await verifiedPayload(jws, key);
    if (payload.iss !== this.options.issuer) {
      throw fail('LICENSE.ISSUER_MISMATCH', `issuer ${quote(payload.iss)} is not the expected ${quote(this.options.issuer)}`);
    }
    const fingerprint = tokenFingerprint(jws);
    const claims = parseLicenseClaims(payload, this.#firstRead(fingerprint) ? this.options.logger : undefined);
    const jti = tokenId(payload);
    const { gracePeriodMs, instanceId } = this.options;
    const effectiveGracePeriodMs = assertLicenseUsable(claims, { now: this.clock.now(), gracePeriodMs, instanceId });
    return {
      gracePeriodMs: effectiveGracePeriodMs,
      jwt: jws,
      claims,
      info: {
        kid,
        jti,
        issuedAt: claims.issuedAt,
        expiresAt: claims.expiresAt,
        fingerprint,
      },
    };
  }

  /** True the first time a token's claims are read (parsing is deterministic: only that read can warn). */
  #firstRead(fingerprint: string): boolean {
    if (this.#read.has(fingerprint)) return false;
    this.#read.add(fingerprint);
    if (this.#read.size > TOKENS_REMEMBERED) this.#read.delete(this.#read.values().next().value as string);
    return true;
  }
}

/**
 * How a token is named without being revealed (DESIGN §6): the first 16 hex digits of the SHA-256
 * of its text. Verified or not: the CLI names a rejected token the same way.
 */
export function tokenFingerprint(jwt: string): string {
  return createHash('sha256').update(jwt).digest('hex').slice(0, 16);
}

/**
 * The signed payload as a JSON object. jose checks the signature (`compactVerify`, EdDSA only), not
 * `jwtVerify`: that one always checks `exp` and `nbf` against its own clock with a finite tolerance,
 * while expiry here has a grace period and belongs to the domain (`assertLicenseUsable`). What else
 * `jwtVerify` adds (no `b64: false`, a JSON object payload, issuer) is checked here with our codes.
 */
async function verifiedPayload(jws: CompactJws, key: KeyObject): Promise<Record<string, unknown>> {
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jws, key, { algorithms: [LICENSE_ALGORITHM] }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw fail('LICENSE.SIGNATURE_INVALID', 'license token signature does not verify');
    }
    if (error instanceof errors.JOSEAlgNotAllowed) throw fail('LICENSE.ALGORITHM_REJECTED', `only ${LICENSE_ALGORITHM} is accepted`);
    throw fail('LICENSE.MALFORMED', `license token is not a valid JWS (${error instanceof errors.JOSEError ? error.code : 'unreadable'})`);
  }
  let claims: unknown;
  try {
    // ignoreBOM: a byte-order mark stays in the text, where JSON.parse refuses it (RFC 8259 §8.1).
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload));
  } catch {
    throw fail('LICENSE.MALFORMED', 'license token payload is not UTF-8 JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw fail('LICENSE.MALFORMED', 'license token payload is not a JSON object');
  }
  return claims as Record<string, unknown>;
}

function fail(code: LicenseTokenErrorCode, message: string): LicenseTokenError {
  return new LicenseTokenError(code, message);
}
