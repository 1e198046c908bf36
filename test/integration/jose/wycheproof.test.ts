import { describe, expect, it } from '@jest/globals';
import { createPublicKey, verify, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { JoseLicenseVerifier } from '../../../src/adapters/jose/jose-license-verifier.js';
import { mergeKeySets, parseJwks, TrustedKeysError } from '../../../src/adapters/jose/trusted-keys.js';
import { DAY, FixedClock } from '../../support/fixed-clock.js';
import { generateSigningKey, jwksOf, TEST_ISSUER } from '../../support/signing-keys.js';
import { rejectionOf } from '../../support/token-rejection.js';

/** Wycheproof vectors, kept in the repository with their provenance (test/fixtures/wycheproof/README.md). */
const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../fixtures/wycheproof/${name}`, import.meta.url), 'utf8')) as T;

type Result = 'valid' | 'invalid';

interface JwsTestFile {
  readonly numberOfTests: number;
  readonly testGroups: readonly {
    readonly public?: { readonly kid: string };
    readonly private?: { readonly kid: string };
    readonly tests: readonly { readonly tcId: number; readonly comment: string; readonly jws: string; readonly result: Result }[];
  }[];
}

interface EddsaTestFile {
  readonly numberOfTests: number;
  readonly testGroups: readonly {
    readonly publicKeyDer: string;
    readonly publicKeyJwk: { readonly kty: string; readonly crv: string; readonly x: string };
    readonly tests: readonly { readonly tcId: number; readonly msg: string; readonly sig: string; readonly result: Result }[];
  }[];
}

describe('Wycheproof JSON Web Signature vectors', () => {
  const jwsFile = fixture<JwsTestFile>('json_web_signature_test.json');
  const cases = jwsFile.testGroups.flatMap((group) => {
    const groupKey = group.public ?? group.private;
    if (groupKey === undefined) throw new Error('fixture: a test group without a key');
    return group.tests.map((test) => ({ ...test, groupKey }));
  });
  const rejected = new Set<number>();

  it('holds 401 tokens', () => {
    expect(jwsFile.numberOfTests).toBe(401);
    expect(cases).toHaveLength(401);
  });

  it.each(cases)('tcId $tcId ($result, $comment) is rejected, even with an Ed25519 key trusted under its kid', async ({ tcId, jws, groupKey }) => {
    const foreign = parseJwks({ keys: [groupKey] }, 'wycheproof');
    expect(foreign.keys.size).toBe(0);
    expect(foreign.ignored).toHaveLength(1);
    const sameKid = parseJwks(jwksOf(generateSigningKey(groupKey.kid)), 'test');
    const verifier = new JoseLicenseVerifier(
      { keys: mergeKeySets(foreign, sameKid).keys, issuer: TEST_ISSUER, instanceId: 'instance-0001', gracePeriodMs: 14 * DAY },
      new FixedClock(),
    );

    await rejectionOf(verifier, jws);
    rejected.add(tcId);
  });

  it('rejected every one of the 401 tokens', () => {
    expect(rejected.size).toBe(401);
  });
});

describe('Wycheproof Ed25519 vectors, for the primitive EdDSA tokens rely on', () => {
  const eddsaFile = fixture<EddsaTestFile>('ed25519_test.json');
  const cases = eddsaFile.testGroups.flatMap((group) => {
    const publicKey = createPublicKey({ key: Buffer.from(group.publicKeyDer, 'hex'), format: 'der', type: 'spki' });
    return group.tests.map((test) => ({ ...test, publicKey }));
  });

  it('holds every vector', () => {
    expect(cases).toHaveLength(eddsaFile.numberOfTests);
  });

  it.each(cases)('tcId $tcId is $result', ({ msg, sig, result, publicKey }) => {
    let verified: boolean;
    try {
      verified = verify(null, Buffer.from(msg, 'hex'), publicKey, Buffer.from(sig, 'hex'));
    } catch {
      verified = false;
    }

    expect(verified).toBe(result === 'valid');
  });
});

/** What a verifier could be tricked by: a key of small order, or one encoded in more than one way. */
function isSmallOrderOrNonCanonical(x: string): boolean {
  const bytes = Buffer.from(x, 'base64url');
  if (bytes.length !== 32 || bytes.toString('base64url') !== x) return true;
  try {
    return ed25519.Point.fromBytes(Uint8Array.from(bytes), true).isSmallOrder() || !ed25519.Point.fromBytes(Uint8Array.from(bytes)).isTorsionFree();
  } catch {
    return true;
  }
}

describe('Wycheproof Ed25519 vectors, through the trusted-key loader and the primitive jose calls', () => {
  const eddsaFile = fixture<EddsaTestFile>('ed25519_test.json');
  const groups = eddsaFile.testGroups.map((group, index) => {
    const kid = `wycheproof-${index}`;
    try {
      return { group, kid, key: parseJwks({ keys: [{ ...group.publicKeyJwk, kid }] }, 'wycheproof').keys.get(kid) };
    } catch (error) {
      if (error instanceof TrustedKeysError) return { group, kid, key: undefined, refusal: error.message };
      throw error;
    }
  });
  const loaded = groups.flatMap(({ group, key }) => (key === undefined ? [] : group.tests.map((test) => ({ ...test, key }))));

  it('refuses a key only when it is small-order or non-canonical, and every such key', () => {
    for (const { group, key } of groups) {
      expect({ x: group.publicKeyJwk.x, refused: key === undefined }).toEqual({ x: group.publicKeyJwk.x, refused: isSmallOrderOrNonCanonical(group.publicKeyJwk.x) });
    }
  });

  it('loads the keys of all 151 vectors (this file has no small-order or non-canonical key; trusted-keys.test.ts has them)', () => {
    expect(loaded).toHaveLength(151);
  });

  it.each(loaded)('tcId $tcId is $result under the loaded key, with WebCrypto Ed25519 as jose verifies', async ({ msg, sig, result, key }) => {
    const cryptoKey = await webcrypto.subtle.importKey('spki', key.export({ type: 'spki', format: 'der' }), { name: 'Ed25519' }, false, ['verify']);
    let verified: boolean;
    try {
      verified = await webcrypto.subtle.verify({ name: 'Ed25519' }, cryptoKey, Buffer.from(sig, 'hex'), Buffer.from(msg, 'hex'));
    } catch {
      verified = false;
    }

    expect(verified).toBe(result === 'valid');
  });
});
