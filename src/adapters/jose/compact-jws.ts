import { LicenseTokenError } from '../../domain/model/errors.js';
import { isCanonicalBase64url } from './base64url.js';

declare const compactJwsBrand: unique symbol;

/**
 * A string in canonical JWS Compact Serialization (RFC 7515 §7.1): three non-empty segments of
 * canonical unpadded base64url (RFC 7515 §2) joined by dots, nothing else. Only `compactJws` makes
 * one, so any function taking a `CompactJws` knows the gate was passed.
 */
export type CompactJws = string & { readonly [compactJwsBrand]: true };

/** The three base64url segments of a `CompactJws`. */
export interface JwsSegments {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
}

/**
 * The gate every license token passes before any decoding: `text` itself, branded, if it is in
 * canonical compact form. No white space or line break anywhere (not even trailing), no `=`
 * padding, no empty segment, and last characters with zero unused bits, so that no two strings
 * decode to the same token: one license is one string, hence one fingerprint. Runs before jose,
 * whose base64url decoding on Node 20 (`atob`) is lenient about all of these.
 *
 * @throws LicenseTokenError `LICENSE.MALFORMED`, never quoting `text`.
 */
export function compactJws(text: string): CompactJws {
  const segments = text.split('.');
  if (segments.length !== 3) throw malformed('is not a compact JWS (three dot-separated parts)');
  if (segments.some((segment) => segment.length === 0)) throw malformed('has an empty part');
  if (!segments.every(isCanonicalBase64url)) throw malformed('is not canonical base64url (RFC 7515 §2: no padding, white space or other characters)');
  return text as CompactJws;
}

/** Splits a `CompactJws` into its segments (always three, non-empty). */
export function jwsSegments(jws: CompactJws): JwsSegments {
  const [header = '', payload = '', signature = ''] = jws.split('.');
  return { header, payload, signature };
}

/** The bytes of a canonical base64url segment: exact, since the gate left nothing to be lenient about. */
export function segmentBytes(segment: string): Buffer {
  return Buffer.from(segment, 'base64url');
}

function malformed(reason: string): LicenseTokenError {
  return new LicenseTokenError('LICENSE.MALFORMED', `license token ${reason}`);
}
