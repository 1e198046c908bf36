import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A trusted-keys file that cannot be used; stops start-up, since it is the operator's own configuration. */
export class TrustedKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustedKeysError';
  }
}

/** Ed25519 public keys by `kid`: the only keys license tokens may be signed with. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

export interface ParsedKeySet {
  readonly keys: TrustedKeys;
  /** Entries skipped because they are not Ed25519 signing keys, with the reason. */
  readonly ignored: readonly string[];
}

const MAX_JWKS_BYTES = 256 * 1024;

/** Parses a JWKS document, keeping only public Ed25519 signature keys with a `kid`. */
export function parseJwks(document: unknown, origin: string): ParsedKeySet {
  const entries = typeof document === 'object' && document !== null ? (document as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(entries)) throw new TrustedKeysError(`${origin}: expected a JWKS object {"keys": [...]}`);
  const keys = new Map<string, KeyObject>();
  const ignored: string[] = [];
  entries.forEach((entry: unknown, index) => {
    const jwk = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const label = typeof jwk.kid === 'string' ? `key "${jwk.kid}"` : `key #${index}`;
    const skip = unsupportedReason(jwk);
    if (skip !== null) {
      ignored.push(`${label}: ${skip}`);
      return;
    }
    if ('d' in jwk) throw new TrustedKeysError(`${origin}: ${label} contains private key material; publish only public keys`);
    const kid = jwk.kid as string;
    if (keys.has(kid)) throw new TrustedKeysError(`${origin}: kid "${kid}" appears twice`);
    try {
      keys.set(kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string }, format: 'jwk' }));
    } catch {
      throw new TrustedKeysError(`${origin}: ${label} is not a valid Ed25519 public key`);
    }
  });
  return { keys, ignored };
}

function unsupportedReason(jwk: Record<string, unknown>): string | null {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return 'not an Ed25519 (OKP) key';
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) return 'no "kid"';
  if (typeof jwk.x !== 'string') return 'no "x"';
  if (jwk.use !== undefined && jwk.use !== 'sig') return `"use" is "${String(jwk.use)}", not "sig"`;
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA') return `"alg" is "${String(jwk.alg)}", not "EdDSA"`;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    return '"key_ops" does not allow "verify"';
  }
  return null;
}

/** Reads and parses a JWKS file. */
export function readJwksFile(path: string): ParsedKeySet {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_JWKS_BYTES) throw new TrustedKeysError(`${path}: larger than ${MAX_JWKS_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof TrustedKeysError) throw error;
    throw new TrustedKeysError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return parseJwks(JSON.parse(text), path);
  } catch (error) {
    if (error instanceof TrustedKeysError) throw error;
    throw new TrustedKeysError(`${path}: not valid JSON`);
  }
}

/** Merges key sets; the same `kid` bound to two different keys is refused rather than guessed. */
export function mergeKeySets(...sets: readonly ParsedKeySet[]): ParsedKeySet {
  const keys = new Map<string, KeyObject>();
  for (const set of sets) {
    for (const [kid, key] of set.keys) {
      const existing = keys.get(kid);
      if (existing !== undefined && !existing.equals(key)) {
        throw new TrustedKeysError(`kid "${kid}" names two different keys in the trusted key files`);
      }
      keys.set(kid, key);
    }
  }
  return { keys, ignored: sets.flatMap((set) => set.ignored) };
}
