import { ed25519 } from '@noble/curves/ed25519.js';
import { isCanonicalBase64url } from './base64url.js';

/** 32 bytes in unpadded base64url (RFC 8037 §2: the "x" of an Ed25519 OKP key). */
const ENCODED_KEY_LENGTH = 43;

/**
 * Why the JWK member `x` is not a usable Ed25519 public key, or null when it is.
 *
 * Usable means: 43 canonical base64url characters (RFC 8037 §2), the canonical encoding of a point
 * on the curve (RFC 8032 §5.1.3: y < p, and no sign bit on x = 0), and a point of the prime-order
 * subgroup. A small-order key (any of the 8 torsion points) verifies forged signatures, for example
 * R = identity, S = 0 for a quarter of all messages under an order-4 key, and OpenSSL does not
 * refuse such keys; a key with a small-order component makes cofactored and cofactorless verifiers
 * disagree. A key the vendor generated (A = aB) is never either, so refusing them costs nothing.
 */
export function ed25519PublicKeyProblem(x: string): string | null {
  if (x.length !== ENCODED_KEY_LENGTH || !isCanonicalBase64url(x)) {
    return `"x" is not ${ENCODED_KEY_LENGTH} base64url characters in canonical form`;
  }
  const bytes = Uint8Array.from(Buffer.from(x, 'base64url'));
  let point: ReturnType<typeof ed25519.Point.fromBytes>;
  try {
    // zip215 = false (noble's default, spelt out): RFC 8032 decoding, which refuses y >= p and the
    // sign bit set on x = 0. ZIP-215 mode would accept those non-canonical encodings.
    point = ed25519.Point.fromBytes(bytes, false);
  } catch {
    return '"x" is not the canonical encoding of a point on Ed25519 (RFC 8032 §5.1.3)';
  }
  // Belt and braces: only the encoding the point itself produces is canonical, whatever the
  // decoder above lets through in a later version.
  if (Buffer.compare(Buffer.from(point.toBytes()), Buffer.from(bytes)) !== 0) {
    return '"x" is not the canonical encoding of a point on Ed25519 (RFC 8032 §5.1.3)';
  }
  if (point.isSmallOrder()) return '"x" is a small-order point, under which forged signatures verify';
  if (!point.isTorsionFree()) return '"x" is not in the prime-order subgroup (it has a small-order component)';
  return null;
}
