import { LicenseTokenError, type LicenseTokenErrorCode } from '../../domain/model/errors.js';
import { jwsSegments, segmentBytes, type CompactJws } from './compact-jws.js';
import { quote } from './quote.js';

/** The only signature algorithm accepted (RFC 8037 §3.1: EdDSA, with an Ed25519 key). */
export const LICENSE_ALGORITHM = 'EdDSA';

/**
 * Header parameters a license never carries. `b64` (RFC 7797) changes what is signed; `crit`
 * (RFC 7515 §4.1.11) demands extensions we do not implement; `jku`, `x5u`, `x5c` and `jwk` name or
 * carry a key, while ours come only from the trusted keys, by `kid`.
 */
const REFUSED_PARAMETERS = ['b64', 'crit', 'jku', 'x5u', 'x5c', 'jwk'] as const;

/** What the verifier uses of an accepted protected header. */
export interface LicenseHeader {
  readonly kid: string;
}

/**
 * Reads and checks the protected header of a license token (RFC 7515 §4.1): a JSON object in
 * strict UTF-8; `alg` exactly `EdDSA`; none of `b64`, `crit`, `jku`, `x5u`, `x5c`, `jwk`; `typ`,
 * when present, the JWT media type (RFC 7519 §5.1) compared as RFC 7515 §4.1.9 says: case-insensitively,
 * with "application/" implied, so `JWT`, `jwt` and `application/jwt` are one; and a string `kid`.
 *
 * @throws LicenseTokenError `LICENSE.MALFORMED` (not a JSON object, a refused parameter, another typ),
 *   `LICENSE.ALGORITHM_REJECTED` (another or no alg), `LICENSE.UNKNOWN_KEY` (no string kid).
 */
export function licenseHeader(jws: CompactJws): LicenseHeader {
  const header = headerObject(jws);
  if (header.alg !== LICENSE_ALGORITHM) {
    throw fail('LICENSE.ALGORITHM_REJECTED', `algorithm ${quote(header.alg)} is not accepted; only ${LICENSE_ALGORITHM} is`);
  }
  const refused = REFUSED_PARAMETERS.find((name) => Object.hasOwn(header, name));
  if (refused !== undefined) throw fail('LICENSE.MALFORMED', `license token header carries "${refused}", which licenses never use`);
  if (header.typ !== undefined && !isJwtMediaType(header.typ)) {
    throw fail('LICENSE.MALFORMED', `license token type ${quote(header.typ)} is not JWT`);
  }
  const { kid } = header;
  if (typeof kid !== 'string') throw fail('LICENSE.UNKNOWN_KEY', 'license token names no key ("kid")');
  return { kid };
}

function headerObject(jws: CompactJws): Record<string, unknown> {
  let header: unknown;
  try {
    // ignoreBOM: a byte-order mark stays in the text, where JSON.parse refuses it (RFC 8259 §8.1).
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(segmentBytes(jwsSegments(jws).header)));
  } catch {
    throw fail('LICENSE.MALFORMED', 'license token header is not UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw fail('LICENSE.MALFORMED', 'license token header is not a JSON object');
  }
  return header as Record<string, unknown>;
}

function isJwtMediaType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === 'jwt' || lower === 'application/jwt';
}

function fail(code: LicenseTokenErrorCode, message: string): LicenseTokenError {
  return new LicenseTokenError(code, message);
}
