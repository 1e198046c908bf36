/**
 * Canonical base64url (RFC 4648 §5, without padding, as JOSE uses it: RFC 7515 §2). Node's decoder
 * is lenient: it skips characters outside the alphabet, accepts `=` padding and ignores the unused
 * low bits of the last character, so several strings decode to the same bytes. Only the one string
 * that encoding those bytes would produce is canonical.
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Last characters whose unused low bits are zero, by the length of the final group (RFC 4648 §3.5). */
const CANONICAL_LAST = new Map<number, string>([
  [2, 'AQgw'], // 12 bits for 8: 4 unused bits
  [3, 'AEIMQUYcgkosw048'], // 18 bits for 16: 2 unused bits
]);

/**
 * Whether `text` is the unpadded base64url encoding of some bytes, character for character:
 * only `[A-Za-z0-9_-]`, a length that is not 1 mod 4 (no whole byte fits in one character), and
 * a last character whose unused bits are zero. The empty string is canonical (zero bytes).
 */
export function isCanonicalBase64url(text: string): boolean {
  if (!ALPHABET.test(text)) return false;
  const rest = text.length % 4;
  if (rest === 0) return true;
  const allowed = CANONICAL_LAST.get(rest);
  return allowed !== undefined && allowed.includes(text.charAt(text.length - 1));
}
