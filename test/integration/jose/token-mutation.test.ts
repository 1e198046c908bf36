import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { JoseLicenseVerifier } from '../../../src/adapters/jose/jose-license-verifier.js';
import { LicenseTokenError } from '../../../src/domain/model/errors.js';
import { DAY, FixedClock } from '../../support/fixed-clock.js';
import { aLicenseToken, generateSigningKey, TEST_ISSUER } from '../../support/signing-keys.js';

/**
 * Property: a license is exactly one string. Any single-character replacement, insertion or
 * deletion anywhere in a valid token is rejected with a LicenseTokenError, or, only when the
 * "mutation" leaves the string unchanged, yields exactly the same claims and fingerprint.
 */
const NOW = new Date('2026-06-01T00:00:00Z');
const RUNS = 300;
const key = generateSigningKey('license-key-2026');
const verifier = new JoseLicenseVerifier(
  { keys: new Map([[key.kid, key.publicKey]]), issuer: TEST_ISSUER, instanceId: 'instance-0001', gracePeriodMs: 14 * DAY },
  new FixedClock(NOW),
);
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Any of the 256 byte values as a character, or a character that a lenient decoder might let through. */
const aCharacter = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((code) => String.fromCharCode(code)),
  fc.constantFrom(...BASE64URL, '.', '=', '+', '/', ' ', '\n', '\r', '\t'),
);

/** A position in a string of `length`, at either end half of the time: lenient decoders hide changes there. */
const positionIn = (length: number, at: number, atAnEnd: boolean) => (atAnEnd ? (at % 2) * length : at % (length + 1));

type Outcome = { rejected: true } | { rejected: false; claims: unknown; fingerprint: string };

async function outcomeOf(jwt: string): Promise<Outcome> {
  try {
    const { claims, info } = await verifier.verify(jwt);
    return { rejected: false, claims, fingerprint: info.fingerprint };
  } catch (error) {
    if (error instanceof LicenseTokenError) return { rejected: true };
    throw error;
  }
}

describe('a valid token, changed by one character', () => {
  let jwt: string;
  let original: Outcome;

  const expectRejectedUnlessUnchanged = async (mutated: string) => {
    const outcome = await outcomeOf(mutated);
    if (mutated === jwt) expect(outcome).toStrictEqual(original);
    else expect(outcome).toStrictEqual({ rejected: true });
  };

  it('verifies unchanged (the baseline)', async () => {
    jwt = await aLicenseToken(key, { tier: 'enterprise', jti: 'jti-0001' }, NOW.getTime());
    original = await outcomeOf(jwt);

    expect(original).toMatchObject({ rejected: false });
  });

  it('is rejected when a character is replaced by any other', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.boolean(), aCharacter, async (at, atAnEnd, character) => {
        const index = positionIn(jwt.length - 1, at, atAnEnd);
        await expectRejectedUnlessUnchanged(jwt.slice(0, index) + character + jwt.slice(index + 1));
      }),
      { numRuns: RUNS },
    );
  });

  it('is rejected when a character is inserted anywhere, the ends included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.boolean(), aCharacter, async (at, atAnEnd, character) => {
        const index = positionIn(jwt.length, at, atAnEnd);
        await expectRejectedUnlessUnchanged(jwt.slice(0, index) + character + jwt.slice(index));
      }),
      { numRuns: RUNS },
    );
  });

  it('is rejected when a character is deleted anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.boolean(), async (at, atAnEnd) => {
        const index = positionIn(jwt.length - 1, at, atAnEnd);
        await expectRejectedUnlessUnchanged(jwt.slice(0, index) + jwt.slice(index + 1));
      }),
      { numRuns: RUNS },
    );
  });

  it('is rejected when its last character is replaced by any base64url character', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BASE64URL), async (character) => {
        await expectRejectedUnlessUnchanged(jwt.slice(0, -1) + character);
      }),
      { numRuns: BASE64URL.length * 2 },
    );
  });
});
