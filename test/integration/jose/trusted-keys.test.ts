import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import type { JWK } from 'jose';
import { mergeKeySets, parseJwk, parseJwks, readJwksFile, TrustedKeysError } from '../../../src/adapters/jose/trusted-keys.js';
import { makeFifo } from '../../support/file-system.js';
import { generateSigningKey, jwksOf } from '../../support/signing-keys.js';
import { makeTempDir, removeTempDir } from '../../support/temp-dir.js';

/** DESIGN: a trusted-keys file is at most 256 KiB (written out, so that a wrong constant fails). */
const MAX_JWKS_BYTES = 256 * 1024;
const ORIGIN = 'license-keys.json';

const NOT_CANONICAL_TEXT = '"x" is not 43 base64url characters in canonical form';
const NOT_A_CANONICAL_POINT = '"x" is not the canonical encoding of a point on Ed25519 (RFC 8032 §5.1.3)';
const SMALL_ORDER = '"x" is a small-order point, under which forged signatures verify';
/** The field prime of Ed25519, 2^255 - 19 (RFC 8032 §5.1). */
const P = 2n ** 255n - 19n;
/** A point of order 8 (RFC 8032 torsion; noble's ED25519_TORSION_SUBGROUP). */
const ORDER_8_POINT = '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05';

/** RFC 8032 §5.1.2 encoding of `y` (which may be out of range) with the x sign bit. */
function encodePoint(y: bigint, xSignBit: boolean): Buffer {
  const bytes = Buffer.alloc(32);
  for (let i = 0, rest = y; i < 32; i += 1, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
  if (xSignBit) bytes[31] = (bytes[31] ?? 0) | 0x80;
  return bytes;
}

const xOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

const first = generateSigningKey('key-2026');
const second = generateSigningKey('key-2027');

const exportedJwk = (key: KeyObject, kid: string): JWK => ({ ...(key.export({ format: 'jwk' }) as JWK), kid });

function trustedKeysErrorFrom(action: () => unknown): TrustedKeysError {
  try {
    action();
  } catch (error) {
    if (error instanceof TrustedKeysError) return error;
    throw error;
  }
  throw new Error('expected a TrustedKeysError, but nothing was thrown');
}

describe('parseJwks', () => {
  it('keeps Ed25519 signature keys by kid', () => {
    const { keys, ignored } = parseJwks(jwksOf(first, second), ORIGIN);

    expect([...keys.keys()]).toEqual(['key-2026', 'key-2027']);
    expect(keys.get('key-2026')?.equals(first.publicKey)).toBe(true);
    expect(keys.get('key-2027')?.equals(second.publicKey)).toBe(true);
    expect(ignored).toEqual([]);
  });

  it('keeps a bare Ed25519 JWK (no use, alg or key_ops) and one whose key_ops allow verify', () => {
    const bare = { kty: 'OKP', crv: 'Ed25519', x: first.jwk.x, kid: 'bare' };
    const verifyOnly = { ...second.jwk, key_ops: ['verify'] };

    const { keys } = parseJwks({ keys: [bare, verifyOnly] }, ORIGIN);

    expect(keys.get('bare')?.equals(first.publicKey)).toBe(true);
    expect(keys.get(second.kid)?.equals(second.publicKey)).toBe(true);
  });

  describe('ignores, with a reason, an entry that is not an Ed25519 signature key', () => {
    const rsa = exportedJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'rsa-key');
    const ec = exportedJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ec-key');
    const x25519 = exportedJwk(generateKeyPairSync('x25519').publicKey, 'x25519-key');

    it.each<[string, unknown, RegExp]>([
      ['an RSA key', rsa, /^key "rsa-key": not an Ed25519/],
      ['an EC key', ec, /^key "ec-key": not an Ed25519/],
      ['an X25519 key', x25519, /^key "x25519-key": not an Ed25519/],
      ['a symmetric (oct) key', { kty: 'oct', k: randomBytes(32).toString('base64url'), kid: 'hmac-key' }, /^key "hmac-key": not an Ed25519/],
      ['an Ed25519 key without kid', { ...first.jwk, kid: undefined }, /^key #0: no "kid"/],
      ['an Ed25519 key with an empty kid', { ...first.jwk, kid: '' }, /no "kid"/],
      ['an Ed25519 key without x', { ...first.jwk, x: undefined }, /^key "key-2026": no "x"/],
      ['an encryption key (use "enc")', { ...first.jwk, use: 'enc' }, /^key "key-2026": "use" is "enc"/],
      ['a key for another alg', { ...first.jwk, alg: 'HS256' }, /^key "key-2026": "alg" is "HS256"/],
      ['a key whose key_ops do not include verify', { ...first.jwk, key_ops: ['sign'] }, /^key "key-2026": "key_ops"/],
      ['a key whose key_ops are not an array', { ...first.jwk, key_ops: 'verify' }, /^key "key-2026": "key_ops"/],
      ['an entry that is not an object', 'key-2026', /^key #0: not an Ed25519/],
    ])('%s', (_case, entry, reason) => {
      const { keys, ignored } = parseJwks({ keys: [entry] }, ORIGIN);

      expect(keys.size).toBe(0);
      expect(ignored).toEqual([expect.stringMatching(reason)]);
    });

    it('while keeping the Ed25519 keys beside it', () => {
      const { keys, ignored } = parseJwks({ keys: [rsa, first.jwk, ec] }, ORIGIN);

      expect([...keys.keys()]).toEqual([first.kid]);
      expect(ignored).toHaveLength(2);
    });
  });

  describe('refuses, naming the origin', () => {
    it('a key with private material, without quoting it', () => {
      const privateJwk = { ...exportedJwk(first.privateKey, first.kid), use: 'sig', alg: 'EdDSA' };

      const error = trustedKeysErrorFrom(() => parseJwks({ keys: [privateJwk] }, ORIGIN));

      expect(error.message).toMatch(/^license-keys\.json: key "key-2026" contains private key material/);
      expect(error.message).not.toContain(String(privateJwk.d));
    });

    it('the same kid twice in one file', () => {
      const twin = { ...second.jwk, kid: first.kid };

      const error = trustedKeysErrorFrom(() => parseJwks({ keys: [first.jwk, twin] }, ORIGIN));

      expect(error.message).toBe('license-keys.json: kid "key-2026" appears twice');
    });

    it.each([
      ['not base64url', 'not base64url!'],
      ['31 bytes long', randomBytes(31).toString('base64url')],
      ['33 bytes long', randomBytes(33).toString('base64url')],
      ['empty', ''],
    ])('a key whose x is %s', (_case, x) => {
      const error = trustedKeysErrorFrom(() => parseJwks({ keys: [{ ...first.jwk, x }] }, ORIGIN));

      expect(error.message).toBe(`license-keys.json: key "key-2026" is not a valid Ed25519 public key: ${NOT_CANONICAL_TEXT}`);
    });

    it.each<[string, unknown]>([
      ['an object without "keys"', {}],
      ['an object whose "keys" is not an array', { keys: first.jwk }],
      ['a bare array of keys', [first.jwk]],
      ['null', null],
      ['a string', 'keys'],
    ])('a document that is not a JWKS: %s', (_case, document) => {
      const error = trustedKeysErrorFrom(() => parseJwks(document, ORIGIN));

      expect(error.message).toMatch(/^license-keys\.json: expected a JWKS/);
    });
  });
});

describe('parseJwks: only usable Ed25519 public keys are trusted (RFC 8032 §5.1.3, RFC 8037 §2)', () => {
  const NEXT = 'next';
  /** The message that refuses the key "next" for `reason`. */
  const refusedFor = (reason: string) => `license-keys.json: key "next" is not a valid Ed25519 public key: ${reason}`;
  /** Loads the good key `first` and, beside it, `x` under the kid "next"; returns the refusal. */
  const refusalOf = (x: string) =>
    trustedKeysErrorFrom(() => parseJwks({ keys: [first.jwk, { kty: 'OKP', crv: 'Ed25519', kid: NEXT, x }] }, ORIGIN)).message;

  it.each(ED25519_TORSION_SUBGROUP)('refuses the small-order point %s (noble\'s list of the 8 torsion points)', (hex) => {
    expect(refusalOf(xOf(Buffer.from(hex, 'hex')))).toBe(refusedFor(SMALL_ORDER));
  });

  it('refuses x all zeros (y = 0, an order-4 point), the key of the forgery in small-order-key-forgery.test.ts', () => {
    expect(refusalOf('A'.repeat(43))).toBe(refusedFor(SMALL_ORDER));
  });

  it('refuses a key with a small-order component (a valid key plus a torsion point)', () => {
    const valid = ed25519.Point.fromBytes(Uint8Array.from(Buffer.from(String(second.jwk.x), 'base64url')));
    const mixed = valid.add(ed25519.Point.fromHex(ORDER_8_POINT)).toBytes();

    expect(refusalOf(xOf(mixed))).toBe(refusedFor('"x" is not in the prime-order subgroup (it has a small-order component)'));
  });

  describe('refuses a non-canonical point encoding', () => {
    const nonCanonicalY = Array.from({ length: 19 }, (_, k) => BigInt(k)).flatMap((k): [string, Buffer][] => [
      [`y = p + ${k}`, encodePoint(P + k, false)],
      [`y = p + ${k}, x sign bit set`, encodePoint(P + k, true)],
    ]);

    it.each(nonCanonicalY)('%s', (_case, bytes) => {
      expect(refusalOf(xOf(bytes))).toBe(refusedFor(NOT_A_CANONICAL_POINT));
    });

    it.each([
      ['the identity (y = 1)', 1n],
      ['the order-2 point (y = p - 1)', P - 1n],
    ])('"negative zero": the x sign bit set on %s, whose x is 0', (_case, y) => {
      expect(refusalOf(xOf(encodePoint(y, true)))).toBe(refusedFor(NOT_A_CANONICAL_POINT));
    });

    it('refuses a y that is on no point of the curve (y = 2)', () => {
      expect(refusalOf(xOf(encodePoint(2n, false)))).toBe(refusedFor(NOT_A_CANONICAL_POINT));
    });
  });

  describe('refuses an x that is not exactly 43 canonical base64url characters', () => {
    const x = String(second.jwk.x);
    const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    /** Same bytes once decoded by a lenient decoder: the two unused low bits of the last character set. */
    const unusedBitsSet = x.slice(0, -1) + BASE64URL.charAt(BASE64URL.indexOf(x.charAt(42)) | 0b01);

    it.each([
      ['with "=" padding', `${x}=`],
      ['with a line break inside', `${x.slice(0, 20)}\n${x.slice(20)}`],
      ['with a trailing space', `${x} `],
      ['in standard base64 (+ and /)', `${x.slice(0, 40)}+/${x.slice(42)}`],
      ['one character short', x.slice(0, 42)],
      ['whose last character has unused bits set', unusedBitsSet],
    ])('%s', (_case, text) => {
      expect(refusalOf(text)).toBe(refusedFor(NOT_CANONICAL_TEXT));
    });

    it('while a lenient decoder reads the last of these as the very same key', () => {
      expect(Buffer.from(unusedBitsSet, 'base64url')).toEqual(Buffer.from(x, 'base64url'));
    });
  });

  it('accepts a freshly generated key beside them (the check is not a blanket refusal)', () => {
    expect(parseJwks({ keys: [first.jwk, { ...second.jwk, kid: NEXT }] }, ORIGIN).keys.has(NEXT)).toBe(true);
  });
});

describe('readJwksFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => {
    removeTempDir(dir);
  });

  function fileWith(content: string | Buffer, name = 'license-keys.json'): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }

  /** A valid JWKS file padded with trailing whitespace to exactly `bytes` bytes. */
  function jwksFileOf(bytes: number): string {
    const json = JSON.stringify(jwksOf(first));
    return fileWith(json + ' '.repeat(bytes - Buffer.byteLength(json)));
  }

  async function refusalOf(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof TrustedKeysError) return error.message;
      throw error;
    }
    throw new Error('expected a TrustedKeysError, but the file was read');
  }

  it('reads the Ed25519 keys of a JWKS file', async () => {
    const { keys } = await readJwksFile(fileWith(JSON.stringify(jwksOf(first, second))));

    expect(keys.get(first.kid)?.equals(first.publicKey)).toBe(true);
    expect(keys.get(second.kid)?.equals(second.publicKey)).toBe(true);
  });

  it('reads a file of exactly 256 KiB', async () => {
    expect((await readJwksFile(jwksFileOf(MAX_JWKS_BYTES))).keys.has(first.kid)).toBe(true);
  });

  it('refuses a file larger than 256 KiB', async () => {
    const path = jwksFileOf(MAX_JWKS_BYTES + 1);

    expect(await refusalOf(readJwksFile(path))).toBe(`${path}: larger than ${MAX_JWKS_BYTES} bytes`);
  });

  it('refuses a missing file, naming it and the reason', async () => {
    const path = join(dir, 'missing.json');

    expect(await refusalOf(readJwksFile(path))).toBe(`${path}: cannot be read (ENOENT)`);
  });

  it('refuses a directory', async () => {
    expect(await refusalOf(readJwksFile(dir))).toBe(`${dir}: not a regular file (a directory)`);
  });

  it('refuses a FIFO at once, where start-up used to wait for a writer for ever', async () => {
    const path = join(dir, 'license-keys.json');
    makeFifo(path);

    expect(await refusalOf(readJwksFile(path))).toBe(`${path}: not a regular file (a FIFO)`);
  });

  it('reads a file through a symbolic link (a Kubernetes ConfigMap mount)', async () => {
    const target = fileWith(JSON.stringify(jwksOf(first)), 'keys-v1.json');
    const path = join(dir, 'license-keys.json');
    symlinkSync(target, path);

    expect((await readJwksFile(path)).keys.has(first.kid)).toBe(true);
  });

  it('names the file as the caller says (the variable that set it)', async () => {
    const path = join(dir, 'missing.json');

    expect(await refusalOf(readJwksFile(path, `SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS (${path})`))).toBe(
      `SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS (${path}): cannot be read (ENOENT)`,
    );
  });

  it.each([
    ['not JSON', '{"keys": ['],
    ['empty', ''],
    ['not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
  ])('refuses a file that is %s', async (_case, content) => {
    const path = fileWith(content);

    expect(await refusalOf(readJwksFile(path))).toBe(`${path}: not valid JSON`);
  });

  it('refuses a JSON file that is not a JWKS, naming the file', async () => {
    const path = fileWith(JSON.stringify([first.jwk]));

    expect(await refusalOf(readJwksFile(path))).toContain(`${path}: expected a JWKS`);
  });
});

describe('parseJwk (one key, as SOFTCLIENT4ES_LICENSE_PUBLIC_KEY holds it)', () => {
  const VARIABLE = 'SOFTCLIENT4ES_LICENSE_PUBLIC_KEY';
  const bare = { kty: 'OKP', crv: 'Ed25519', kid: first.kid, x: first.jwk.x };

  it('trusts one Ed25519 public JWK under its kid', () => {
    const { keys, ignored } = parseJwk(JSON.stringify(bare), VARIABLE);

    expect([...keys.keys()]).toEqual([first.kid]);
    expect(keys.get(first.kid)?.equals(first.publicKey)).toBe(true);
    expect(ignored).toEqual([]);
  });

  it('trusts a JWK with use "sig", alg "EdDSA" and surrounding white space', () => {
    expect(parseJwk(` ${JSON.stringify(first.jwk)}\n`, VARIABLE).keys.get(first.kid)?.equals(first.publicKey)).toBe(true);
  });

  it.each<[string, string, string]>([
    ['not JSON', '{"kty": "OKP",', 'not valid JSON'],
    ['a JSON array', JSON.stringify([bare]), 'expected one JWK object'],
    ['a JSON string', JSON.stringify('key'), 'expected one JWK object'],
    ['JSON null', 'null', 'expected one JWK object'],
    ['a JSON number', '42', 'expected one JWK object'],
    ['a JWK set', JSON.stringify({ keys: [bare] }), 'expected one JWK object, not a JWK set'],
    ['a key without kid', JSON.stringify({ ...bare, kid: undefined }), 'the key: no "kid"'],
    ['an RSA key', JSON.stringify(exportedJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'rsa')), 'key "rsa": not an Ed25519 (OKP) key'],
    ['an encryption key', JSON.stringify({ ...bare, use: 'enc' }), 'key "key-2026": "use" is "enc", not "sig"'],
    ['a private key', JSON.stringify(exportedJwk(first.privateKey, first.kid)), 'key "key-2026" contains private key material; publish only public keys'],
    ['a small-order point', JSON.stringify({ ...bare, x: 'A'.repeat(43) }), `key "key-2026" is not a valid Ed25519 public key: ${SMALL_ORDER}`],
    ['a padded x', JSON.stringify({ ...bare, x: `${String(bare.x)}=` }), `key "key-2026" is not a valid Ed25519 public key: ${NOT_CANONICAL_TEXT}`],
  ])('refuses %s, naming the variable, never echoing the value', (_case, json, reason) => {
    const message = trustedKeysErrorFrom(() => parseJwk(json, VARIABLE)).message;

    expect(message).toBe(`${VARIABLE}: ${reason}`);
    if (json.length > 16) expect(message).not.toContain(json);
  });
});

describe('trusted key refusals, as values', () => {
  it('are TrustedKeysError by name, so that start-up can tell them from programming errors', () => {
    const error = trustedKeysErrorFrom(() => parseJwk('null', 'SOFTCLIENT4ES_LICENSE_PUBLIC_KEY'));
    expect(error.name).toBe('TrustedKeysError');
    expect(error).toBeInstanceOf(Error);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'keys'],
    ['a number', 42],
    ['an object without keys', {}],
  ])('parseJwks refuses a document that is %s', (_case, document) => {
    expect(trustedKeysErrorFrom(() => parseJwks(document, 'origin')).message).toBe('origin: expected a JWKS object {"keys": [...]}');
  });

  it('ignores an entry with crv Ed25519 but another kty, instead of trusting its x as an Ed25519 key', () => {
    const { keys, ignored } = parseJwks({ keys: [{ ...first.jwk, kty: 'RSA' }] }, 'origin');
    expect(keys.size).toBe(0);
    expect(ignored).toEqual(['key "key-2026": not an Ed25519 (OKP) key']);
  });
});

describe('mergeKeySets', () => {
  it('unites key sets and their ignored entries', () => {
    const bundled = parseJwks({ keys: [first.jwk, { kty: 'oct', kid: 'hmac-key' }] }, 'bundled');
    const operator = parseJwks(jwksOf(second), 'operator');

    const { keys, ignored } = mergeKeySets(bundled, operator);

    expect([...keys.keys()]).toEqual([first.kid, second.kid]);
    expect(ignored).toEqual([expect.stringMatching(/^key "hmac-key"/)]);
  });

  it('accepts the same kid bound to the same key in two sets', () => {
    const { keys } = mergeKeySets(parseJwks(jwksOf(first), 'bundled'), parseJwks(jwksOf(first), 'operator'));

    expect(keys.size).toBe(1);
    expect(keys.get(first.kid)?.equals(first.publicKey)).toBe(true);
  });

  it('refuses the same kid bound to two different keys', () => {
    const impostor = generateSigningKey(first.kid);

    const error = trustedKeysErrorFrom(() => mergeKeySets(parseJwks(jwksOf(first), 'bundled'), parseJwks(jwksOf(impostor), 'operator')));

    expect(error.message).toBe('kid "key-2026" names two different keys in the trusted key files');
  });
});
