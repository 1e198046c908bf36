import { createPublicKey, type KeyObject } from 'node:crypto';
import { BoundedFileError, readBoundedRegularFile } from '../fs/bounded-file.js';
import { ed25519PublicKeyProblem } from './ed25519-public-key.js';
import { quote } from './quote.js';
import { TrustedKeysError } from './trusted-keys.error.js';

export { TrustedKeysError };

/** Ed25519 public keys by `kid`: the only keys license tokens may be signed with. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

export interface ParsedKeySet {
  readonly keys: TrustedKeys;
  /** Entries skipped because they are not Ed25519 signing keys, with the reason. */
  readonly ignored: readonly string[];
}

const MAX_JWKS_BYTES = 256 * 1024;

/**
 * Parses a JWKS document (RFC 7517 §5), keeping only public Ed25519 signature keys with a `kid`
 * (RFC 8037 §2). Entries that are not such keys (RSA, EC, `use: "enc"`...) are ignored with a reason.
 *
 * @throws TrustedKeysError, naming `origin` and the key: not a JWKS, private material (`d`), a `kid`
 *   twice, or an Ed25519 key that is not usable (see `ed25519PublicKeyProblem`: non-canonical,
 *   small-order, not in the prime-order subgroup).
 */
export function parseJwks(document: unknown, origin: string): ParsedKeySet {
  const entries = typeof document === 'object' && document !== null ? (document as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(entries)) throw new TrustedKeysError(`${origin}: expected a JWKS object {"keys": [...]}`);
  const keys = new Map<string, KeyObject>();
  const ignored: string[] = [];
  entries.forEach((entry: unknown, index) => {
    const jwk = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const label = typeof jwk.kid === 'string' ? `key ${quote(jwk.kid)}` : `key #${index}`;
    const skip = unsupportedReason(jwk);
    if (skip !== null) {
      ignored.push(`${label}: ${skip}`);
      return;
    }
    const key = publicKeyOf(jwk, `${origin}: ${label}`);
    const kid = jwk.kid as string;
    if (keys.has(kid)) throw new TrustedKeysError(`${origin}: kid ${quote(kid)} appears twice`);
    keys.set(kid, key);
  });
  return { keys, ignored };
}

/** The KeyObject of a supported Ed25519 JWK, refusing private material and unusable points. */
function publicKeyOf(jwk: Record<string, unknown>, label: string): KeyObject {
  if ('d' in jwk) throw new TrustedKeysError(`${label} contains private key material; publish only public keys`);
  const x = jwk.x as string;
  const problem = ed25519PublicKeyProblem(x);
  if (problem !== null) throw new TrustedKeysError(`${label} is not a valid Ed25519 public key: ${problem}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

function unsupportedReason(jwk: Record<string, unknown>): string | null {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return 'not an Ed25519 (OKP) key';
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) return 'no "kid"';
  if (typeof jwk.x !== 'string') return 'no "x"';
  if (jwk.use !== undefined && jwk.use !== 'sig') return `"use" is ${quote(jwk.use)}, not "sig"`;
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA') return `"alg" is ${quote(jwk.alg)}, not "EdDSA"`;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    return '"key_ops" does not allow "verify"';
  }
  return null;
}

/**
 * Reads and parses a JWKS file of at most 256 KiB (see `parseJwks`). The read never blocks: a FIFO,
 * a directory or a device is refused at once; symbolic links are followed (Kubernetes mounts).
 *
 * @param origin how messages name the file (by default its path), e.g. with the variable that set it.
 * @throws TrustedKeysError `<origin>: <reason>`: unreadable, not a regular file, too large, not UTF-8
 *   JSON, or any refusal of `parseJwks`.
 */
export async function readJwksFile(path: string, origin: string = path): Promise<ParsedKeySet> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedRegularFile(path, MAX_JWKS_BYTES);
  } catch (error) {
    if (error instanceof BoundedFileError) throw new TrustedKeysError(`${origin}: ${error.reason}`);
    throw error;
  }
  return parseJwks(jsonOf(bytes, origin), origin);
}

/**
 * Parses one JWK given as JSON text (RFC 7517 §4), as `SOFTCLIENT4ES_LICENSE_PUBLIC_KEY` holds it,
 * under the rules of `parseJwks`; but here a key that cannot be trusted is an error, not skipped,
 * since the operator named this one key. Messages never quote the value.
 *
 * @returns a key set of that one key (nothing ignored).
 * @throws TrustedKeysError `<origin>: <reason>`: not JSON, not one JWK object, no `kid`, not an
 *   Ed25519 signature key, private material, or not a usable Ed25519 public key.
 */
export function parseJwk(json: string, origin: string): ParsedKeySet {
  const jwk = jsonOf(Buffer.from(json, 'utf8'), origin);
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new TrustedKeysError(`${origin}: expected one JWK object`);
  if ('keys' in jwk) throw new TrustedKeysError(`${origin}: expected one JWK object, not a JWK set`);
  const entry = jwk as Record<string, unknown>;
  const label = `${origin}: ${typeof entry.kid === 'string' ? `key ${quote(entry.kid)}` : 'the key'}`;
  const skip = unsupportedReason(entry);
  if (skip !== null) throw new TrustedKeysError(`${label}: ${skip}`);
  return { keys: new Map([[entry.kid as string, publicKeyOf(entry, label)]]), ignored: [] };
}

/** Strict UTF-8 JSON, or `<origin>: not valid JSON`. */
function jsonOf(bytes: Buffer, origin: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new TrustedKeysError(`${origin}: not valid JSON`);
  }
}

/** Merges key sets; the same `kid` bound to two different keys is refused rather than guessed. */
export function mergeKeySets(...sets: readonly ParsedKeySet[]): ParsedKeySet {
  const keys = new Map<string, KeyObject>();
  for (const set of sets) {
    for (const [kid, key] of set.keys) {
      const existing = keys.get(kid);
      if (existing !== undefined && !existing.equals(key)) {
        throw new TrustedKeysError(`kid ${quote(kid)} names two different keys in the trusted key files`);
      }
      keys.set(kid, key);
    }
  }
  return { keys, ignored: sets.flatMap((set) => set.ignored) };
}
