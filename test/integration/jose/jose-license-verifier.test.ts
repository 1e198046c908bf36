import { describe, expect, it } from '@jest/globals';
import { createHash, createSecretKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { JoseLicenseVerifier, type JoseLicenseVerifierOptions } from '../../../src/adapters/jose/jose-license-verifier.js';
import type { LicenseTokenErrorCode } from '../../../src/domain/model/errors.js';
import { DAY, FixedClock, SECOND } from '../../support/fixed-clock.js';
import { aLicenseToken, generateSigningKey, TEST_ISSUER, type SigningKey, type TokenOptions } from '../../support/signing-keys.js';
import { RecordingLogger } from '../../support/recording-logger.js';
import { rejectionOf } from '../../support/token-rejection.js';

/** DESIGN §3: the contract's numbers, written out rather than imported, so that a wrong constant fails. */
const MAX_TOKEN_BYTES = 16 * 1024;
const GRACE_PERIOD = 14 * DAY;
const TOLERANCE_SECONDS = 60;

const NOW = new Date('2026-06-01T00:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const DAY_SECONDS = DAY / SECOND;
const INSTANCE_ID = 'instance-0001';

const trusted = generateSigningKey('license-key-2026');

function verifier(options: Partial<JoseLicenseVerifierOptions> = {}, clock = new FixedClock(NOW)): JoseLicenseVerifier {
  return new JoseLicenseVerifier(
    {
      keys: new Map([[trusted.kid, trusted.publicKey]]),
      issuer: TEST_ISSUER,
      instanceId: INSTANCE_ID,
      gracePeriodMs: GRACE_PERIOD,
      ...options,
    },
    clock,
  );
}

/** A license token issued a minute before `NOW`, valid for a year, signed by the trusted key unless told otherwise. */
const token = (options: TokenOptions = {}, key: SigningKey = trusted) => aLicenseToken(key, options, NOW.getTime());

async function expectRejected(jwt: string, code: LicenseTokenErrorCode, by = verifier()): Promise<void> {
  expect((await rejectionOf(by, jwt)).code).toBe(code);
}

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

function partsOf(jwt: string): { header: string; payload: string; signature: string } {
  const [header, payload, signature, ...rest] = jwt.split('.');
  if (header === undefined || payload === undefined || signature === undefined || rest.length > 0) {
    throw new Error('test setup: not a compact JWS');
  }
  return { header, payload, signature };
}

/** The token's payload under a hand-written header and signature: what anyone can forge without a key. */
const forged = (jwt: string, header: Record<string, unknown>, signature: string) =>
  `${base64url(JSON.stringify(header))}.${partsOf(jwt).payload}.${signature}`;

/** A correctly EdDSA-signed JWS over an arbitrary payload, which need not be a JSON object. */
const signedPayload = (payload: string) =>
  new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'EdDSA', kid: trusted.kid }).sign(trusted.privateKey);

/** The trusted `kid`, but the token is signed with `privateKey` under `alg`. */
const signedAs = (alg: string, privateKey: KeyObject) => token({ header: { alg } }, { ...trusted, privateKey });

describe('JoseLicenseVerifier', () => {
  describe('a valid EdDSA token', () => {
    it('verifies, with its claims parsed into domain types', async () => {
      const jwt = await token({
        tier: 'PRO',
        features: ['repl', 'time_travel', 'jdbc_driver'],
        quotas: { max_joins: 9, max_result_rows: null, max_widgets: 3 },
        trial: true,
        orgName: 'Acme Corp',
        platform: 'STAGING',
        jti: 'jti-0042',
      });

      const { claims } = await verifier().verify(jwt);

      expect(claims).toStrictEqual({
        licenseId: 'lic-test-0001',
        tier: 'pro',
        features: ['jdbc_driver', 'repl'],
        quotas: { max_joins: 9, max_result_rows: null },
        trial: true,
        orgName: 'Acme Corp',
        platform: 'STAGING',
        instanceId: null,
        gracePeriodDays: null,
        issuedAt: new Date((NOW_SECONDS - 60) * 1000),
        expiresAt: new Date((NOW_SECONDS + 365 * DAY_SECONDS) * 1000),
        notBefore: null,
      });
    });

    it("reads the vendor's grace_period_days", async () => {
      expect((await verifier().verify(await token({ claims: { grace_period_days: 30 } }))).claims.gracePeriodDays).toBe(30);
    });

    it('reads explicit JSON null in every optional claim as absent', async () => {
      const optional = ['trial', 'org_name', 'platform', 'instance_id', 'features', 'quotas', 'jti', 'nbf', 'grace_period_days'];
      const withNulls = await token({ claims: Object.fromEntries(optional.map((name) => [name, null])) });
      const without = await token({ claims: Object.fromEntries(optional.map((name) => [name, undefined])) });

      const [nulls, absent] = [await verifier().verify(withNulls), await verifier().verify(without)];

      expect(nulls.claims).toStrictEqual(absent.claims);
      expect(nulls.info.jti).toBeNull();
    });

    it('ignores an unknown platform with a WARN to the logger it is given, instead of refusing the license', async () => {
      const logger = new RecordingLogger();

      const { claims } = await verifier({ logger }).verify(await token({ platform: 'PROD' }));

      expect(claims.platform).toBeNull();
      expect(logger.at('warn')).toEqual([expect.stringMatching(/^License token platform "PROD" is not one of/)]);
    });

    it('reports an unknown platform once per token, not on every read of it (a refresh re-reads the same token)', async () => {
      const logger = new RecordingLogger();
      const subject = verifier({ logger });
      const [first, second] = [await token({ platform: 'PROD', jti: 'first' }), await token({ platform: 'Mars', jti: 'second' })];

      for (let read = 0; read < 3; read += 1) {
        expect((await subject.verify(first)).claims.platform).toBeNull();
        expect((await subject.verify(second)).claims.platform).toBeNull();
      }

      expect(logger.at('warn')).toEqual([
        expect.stringMatching(/^License token platform "PROD" is not one of/),
        expect.stringMatching(/^License token platform "Mars" is not one of/),
      ]);
    });

    it('remembers the last 32 tokens read: the 33rd other token makes the first one new again (bounded memory)', async () => {
      const logger = new RecordingLogger();
      const subject = verifier({ logger });
      const first = await token({ platform: 'PROD', jti: 'first' });
      await subject.verify(first);
      for (let i = 0; i < 31; i += 1) await subject.verify(await token({ jti: `other-${i}` }));
      await subject.verify(first); // 32 remembered, the first among them: no second WARN
      expect(logger.at('warn')).toHaveLength(1);

      await subject.verify(await token({ jti: 'the-33rd' }));
      await subject.verify(first); // forgotten: read as new

      expect(logger.at('warn')).toHaveLength(2);
    });

    it('names the key ids it trusts (the start-up summary line shows them)', () => {
      expect(verifier().trustedKeyIds).toEqual([trusted.kid]);
    });

    it('reads a token signed with features and platform the way the original product writes them', async () => {
      const jwt = await token({ features: ['\tREPL\n', 'Materialized_Views ', 'time_travel', 'JDBC_DRIVER'], platform: 'production\n' });

      const { claims } = await verifier().verify(jwt);

      expect(claims).toMatchObject({ features: ['materialized_views', 'jdbc_driver', 'repl'], platform: 'PRODUCTION' });
    });

    it('reads features and platform trimmed and case-insensitively', async () => {
      const { claims } = await verifier().verify(await token({ features: [' REPL', 'Flight_SQL '], platform: ' staging' }));

      expect(claims).toMatchObject({ features: ['flight_sql', 'repl'], platform: 'STAGING' });
    });

    it('keeps only the quotas it names, so that the tier default applies to the others', async () => {
      const { claims } = await verifier().verify(await token({ quotas: { max_clusters: 7 } }));

      expect(claims.quotas).toStrictEqual({ max_clusters: 7 });
    });

    it('leaves features, trial, org and platform unset when the token does not carry them', async () => {
      const jwt = await token({ claims: { trial: undefined, org_name: undefined, platform: undefined } });

      const { claims } = await verifier().verify(jwt);

      expect(claims).toMatchObject({ features: null, quotas: {}, trial: false, orgName: null, platform: null });
    });

    it('is described by token info: kid, jti, dates and a fingerprint that does not reveal it', async () => {
      const jwt = await token({ jti: 'jti-0042' });

      const verified = await verifier().verify(jwt);

      expect(verified.jwt).toBe(jwt);
      expect(verified.info).toStrictEqual({
        kid: trusted.kid,
        jti: 'jti-0042',
        issuedAt: new Date((NOW_SECONDS - 60) * 1000),
        expiresAt: new Date((NOW_SECONDS + 365 * DAY_SECONDS) * 1000),
        fingerprint: createHash('sha256').update(jwt).digest('hex').slice(0, 16),
      });
      expect(verified.info.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    });

    it('without a jti has a null jti', async () => {
      expect((await verifier().verify(await token())).info.jti).toBeNull();
    });
  });

  describe('algorithm', () => {
    it.each(['none', 'None', 'NONE'])('rejects an unsigned token with alg "%s" (and an empty signature: not even compact form)', async (alg) => {
      const unsigned = forged(await token(), { alg, kid: trusted.kid, typ: 'JWT' }, '');

      await expectRejected(unsigned, 'LICENSE.MALFORMED');
    });

    it.each(['none', 'None', 'NONE'])('rejects alg "%s" with some signature', async (alg) => {
      await expectRejected(forged(await token(), { alg, kid: trusted.kid, typ: 'JWT' }, 'c2ln'), 'LICENSE.ALGORITHM_REJECTED');
    });

    it.each<[string, Record<string, unknown>]>([
      ['no alg', { kid: 'license-key-2026' }],
      ['alg "eddsa" (names are case-sensitive, RFC 7515 §4.1.1)', { alg: 'eddsa', kid: 'license-key-2026' }],
      ['alg a number', { alg: 1, kid: 'license-key-2026' }],
    ])('rejects %s', async (_case, header) => {
      await expectRejected(forged(await token(), header, partsOf(await token()).signature), 'LICENSE.ALGORITHM_REJECTED');
    });

    it('rejects HS256 keyed with the raw bytes of the trusted public key', async () => {
      const publicKeyBytes = Buffer.from(String(trusted.jwk.x), 'base64url');

      await expectRejected(await signedAs('HS256', createSecretKey(publicKeyBytes)), 'LICENSE.ALGORITHM_REJECTED');
    });

    it('rejects HS256 keyed with the PEM text of the trusted public key', async () => {
      const publicKeyPem = Buffer.from(trusted.publicKey.export({ type: 'spki', format: 'pem' }));

      await expectRejected(await signedAs('HS256', createSecretKey(publicKeyPem)), 'LICENSE.ALGORITHM_REJECTED');
    });

    it('rejects ES256 even under a trusted kid', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

      await expectRejected(await signedAs('ES256', privateKey), 'LICENSE.ALGORITHM_REJECTED');
    });

    it('rejects RS256 even under a trusted kid', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

      await expectRejected(await signedAs('RS256', privateKey), 'LICENSE.ALGORITHM_REJECTED');
    });

    it('rejects the fully-specified "Ed25519" alg, though the key and signature are right', async () => {
      await expectRejected(await signedAs('Ed25519', trusted.privateKey), 'LICENSE.ALGORITHM_REJECTED');
    });
  });

  describe('key and signature', () => {
    it('rejects a token that names no kid', async () => {
      await expectRejected(await token({ header: { kid: undefined } }), 'LICENSE.UNKNOWN_KEY');
    });

    it.each([42, '', null, ['license-key-2026']])('rejects a kid %p', async (kid) => {
      await expectRejected(await token({ header: { kid } }), 'LICENSE.UNKNOWN_KEY');
    });

    it('rejects a token whose kid is not trusted', async () => {
      await expectRejected(await token({}, generateSigningKey('someone-elses-key')), 'LICENSE.UNKNOWN_KEY');
    });

    it('rejects a token signed by another Ed25519 key under the trusted kid', async () => {
      await expectRejected(await token({}, generateSigningKey(trusted.kid)), 'LICENSE.SIGNATURE_INVALID');
    });

    it('rejects a token whose payload was changed after signing', async () => {
      const { header, signature } = partsOf(await token({ tier: 'pro' }));
      const upgraded = partsOf(await token({ tier: 'enterprise' })).payload;

      await expectRejected(`${header}.${upgraded}.${signature}`, 'LICENSE.SIGNATURE_INVALID');
    });

    it('rejects a token whose signature was changed', async () => {
      const { header, payload, signature } = partsOf(await token());
      const flipped = Buffer.from(signature, 'base64url');
      flipped.writeUInt8(flipped.readUInt8(0) ^ 0x01, 0);

      await expectRejected(`${header}.${payload}.${flipped.toString('base64url')}`, 'LICENSE.SIGNATURE_INVALID');
    });
  });

  describe('canonical compact serialization (RFC 7515 §7.1): one license is one string', () => {
    /** A token string changed by `change`, that must be refused as malformed. */
    async function expectMalformed(change: (jwt: string) => string): Promise<void> {
      await expectRejected(change(await token()), 'LICENSE.MALFORMED');
    }

    it.each<[string, (jwt: string) => string]>([
      ['a trailing line feed', (jwt) => `${jwt}\n`],
      ['a trailing CR LF', (jwt) => `${jwt}\r\n`],
      ['a leading space', (jwt) => ` ${jwt}`],
      ['a trailing space', (jwt) => `${jwt} `],
      ['a tab inside the payload', (jwt) => jwt.replace('.', '.\t')],
      ['a line break inside the signature', (jwt) => `${jwt.slice(0, -10)}\n${jwt.slice(-10)}`],
      ['"==" padding after the signature', (jwt) => `${jwt}==`],
      ['"=" padding after the header', (jwt) => jwt.replace('.', '=.')],
      ['standard base64 "+" for "-"', (jwt) => jwt.replace(/-/, '+').replace(/^[^+]*$/, (all) => `${all.slice(0, -1)}+`)],
      ['standard base64 "/" for "_"', (jwt) => jwt.replace(/_/, '/').replace(/^[^/]*$/, (all) => `${all.slice(0, -1)}/`)],
      ['an empty header', (jwt) => `.${partsOf(jwt).payload}.${partsOf(jwt).signature}`],
      ['an empty payload', (jwt) => `${partsOf(jwt).header}..${partsOf(jwt).signature}`],
      ['an empty signature', (jwt) => `${partsOf(jwt).header}.${partsOf(jwt).payload}.`],
      ['a non-ASCII letter', (jwt) => `${jwt.slice(0, 5)}é${jwt.slice(6)}`],
      ['a NUL character', (jwt) => `${jwt}\u0000`],
      ['a signature 1 mod 4 long', (jwt) => `${jwt}AAA`],
    ])('rejects a token with %s', async (_case, change) => {
      await expectMalformed(change);
    });

    it('rejects a signature whose last character has unused bits set, though a lenient decoder reads the same bytes', async () => {
      const jwt = await token();
      const { header, payload, signature } = partsOf(jwt);
      expect(signature).toHaveLength(86); // 64 bytes: the last character carries 2 bits and 4 unused ones
      const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const twin = signature.slice(0, -1) + ALPHABET.charAt(ALPHABET.indexOf(signature.charAt(85)) | 0b1111);
      expect(Buffer.from(twin, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));

      await expectRejected(`${header}.${payload}.${twin}`, 'LICENSE.MALFORMED');
    });

    it('accepts the canonical string itself, with its fingerprint', async () => {
      const jwt = await token();

      expect((await verifier().verify(jwt)).info.fingerprint).toBe(createHash('sha256').update(jwt).digest('hex').slice(0, 16));
    });
  });

  describe('header parameters (RFC 7515 §4.1)', () => {
    /** Signs `header.payload` as given (the payload may be unencoded, RFC 7797) with the trusted key, by hand: jose refuses to sign some of these. */
    function signedRaw(header: Record<string, unknown>, payload: string): string {
      const signingInput = `${base64url(JSON.stringify(header))}.${payload}`;
      return `${signingInput}.${sign(null, Buffer.from(signingInput), trusted.privateKey).toString('base64url')}`;
    }

    /** The claims of `token()` under the usual header with `header` merged in, validly signed. */
    const withHeader = async (header: Record<string, unknown>) =>
      signedRaw({ alg: 'EdDSA', kid: trusted.kid, typ: 'JWT', ...header }, partsOf(await token()).payload);

    it('rejects b64 false with an unencoded payload (RFC 7797), which a bare compactVerify took for a Pro license', async () => {
      const issuer = 'urn:softclient4es:licenses'; // a payload sent unencoded must hold no "."
      const claims = { iss: issuer, sub: 'lic-raw', tier: 'pro', iat: NOW_SECONDS - 60, exp: NOW_SECONDS + DAY_SECONDS };
      const jwt = signedRaw({ alg: 'EdDSA', kid: trusted.kid, b64: false, crit: ['b64'] }, JSON.stringify(claims));

      await expectRejected(jwt, 'LICENSE.MALFORMED', verifier({ issuer }));
    });

    it.each<[string, Record<string, unknown>]>([
      ['b64 true, declared critical', { b64: true, crit: ['b64'] }],
      ['b64 true, not declared critical', { b64: true }],
      ['b64 false, not declared critical', { b64: false }],
      ['crit naming a claim', { crit: ['exp'] }],
      ['crit naming an extension it carries', { crit: ['x-license'], 'x-license': 1 }],
      ['an empty crit', { crit: [] }],
      ['jku (a key set URL)', { jku: 'https://evil.example/jwks.json' }],
      ['x5u (a certificate URL)', { x5u: 'https://evil.example/cert.pem' }],
      ['x5c (a certificate chain)', { x5c: ['MIIB'] }],
      ['jwk (an embedded key)', { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) } }],
    ])('rejects a validly signed token whose header carries %s', async (_case, header) => {
      await expectRejected(await withHeader(header), 'LICENSE.MALFORMED');
    });

    it.each(['JWT', 'jwt', 'Jwt', 'application/jwt', 'APPLICATION/JWT'])('accepts typ %p (media types compare case-insensitively, RFC 7515 §4.1.9)', async (typ) => {
      await expect(verifier().verify(await withHeader({ typ }))).resolves.toBeDefined();
    });

    it('accepts a token without typ', async () => {
      await expect(verifier().verify(await withHeader({ typ: undefined }))).resolves.toBeDefined();
    });

    it.each(['JOSE', 'at+jwt', 'application/at+jwt', 'JWT ', 'application/jose', '', 42, null])('rejects typ %p', async (typ) => {
      await expectRejected(await withHeader({ typ }), 'LICENSE.MALFORMED');
    });

    it.each<[string, string]>([
      ['not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url')],
      ['JSON with a byte-order mark', Buffer.from(`\ufeff${JSON.stringify({ alg: 'EdDSA', kid: 'license-key-2026' })}`).toString('base64url')],
      ['JSON null', base64url('null')],
    ])('rejects a header that is %s', async (_case, header) => {
      const { payload, signature } = partsOf(await token());

      await expectRejected(`${header}.${payload}.${signature}`, 'LICENSE.MALFORMED');
    });
  });

  describe('issuer and claims', () => {
    it('rejects another issuer', async () => {
      await expectRejected(await token({ issuer: 'https://evil.example' }), 'LICENSE.ISSUER_MISMATCH');
    });

    it('rejects a token without an issuer', async () => {
      await expectRejected(await token({ claims: { iss: undefined } }), 'LICENSE.ISSUER_MISMATCH');
    });

    it.each<[string, Record<string, unknown>]>([
      ['sub missing', { sub: undefined }],
      ['sub a number', { sub: 42 }],
      ['sub empty', { sub: '' }],
      ['exp missing', { exp: undefined }],
      ['exp a string', { exp: '2027-06-01T00:00:00Z' }],
      ['exp negative', { exp: -1 }],
      ['exp beyond the range of a date', { exp: 1e13 }],
      ['iat missing', { iat: undefined }],
      ['iat a string', { iat: String(NOW_SECONDS) }],
      ['iat beyond the range of a date', { iat: 1e13, exp: 2e13 }],
      ['nbf a string', { nbf: 'now' }],
      ['nbf beyond the range of a date', { nbf: 1e13 }],
      ['tier missing', { tier: undefined }],
      ['tier unknown', { tier: 'gold' }],
      ['tier a number', { tier: 2 }],
      ['platform a number', { platform: 1 }],
      ['a negative quota', { quotas: { max_joins: -1 } }],
      ['a fractional quota', { quotas: { max_joins: 1.5 } }],
      ['a quota as a string', { quotas: { max_joins: '5' } }],
      ['quotas an array', { quotas: [5] }],
      ['quotas a number', { quotas: 5 }],
      ['features a string', { features: 'repl' }],
      ['features an object', { features: { repl: true } }],
      ['trial a string', { trial: 'yes' }],
      ['trial a number', { trial: 1 }],
      ['org_name a number', { org_name: 7 }],
      ['instance_id a number', { instance_id: 7 }],
      ['jti a number', { jti: 7 }],
      ['grace_period_days over 365', { grace_period_days: 366 }],
      ['grace_period_days a string', { grace_period_days: '14' }],
      ['exp at the last date (8640000000000 s), leaving no room for a grace period', { exp: 8_640_000_000_000 }],
    ])('rejects %s as invalid claims', async (_case, claims) => {
      await expectRejected(await token({ claims }), 'LICENSE.CLAIMS_INVALID');
    });
  });

  describe('time', () => {
    it('rejects a token issued after it expires as malformed', async () => {
      const jwt = await token({ issuedAt: NOW_SECONDS - 3600, expiresAt: NOW_SECONDS - 7200 });

      await expectRejected(jwt, 'LICENSE.MALFORMED');
    });

    it.each([30, TOLERANCE_SECONDS])('accepts nbf %i s in the future (clock tolerance)', async (seconds) => {
      const { claims } = await verifier().verify(await token({ notBefore: NOW_SECONDS + seconds }));

      expect(claims.notBefore).toEqual(new Date((NOW_SECONDS + seconds) * 1000));
    });

    it.each([TOLERANCE_SECONDS + 1, 3600])('rejects nbf %i s in the future as not yet valid', async (seconds) => {
      await expectRejected(await token({ notBefore: NOW_SECONDS + seconds }), 'LICENSE.NOT_YET_VALID');
    });

    it.each([30, TOLERANCE_SECONDS])('accepts iat %i s in the future (clock tolerance)', async (seconds) => {
      await expect(verifier().verify(await token({ issuedAt: NOW_SECONDS + seconds }))).resolves.toBeDefined();
    });

    it.each([TOLERANCE_SECONDS + 1, 3600])('rejects iat %i s in the future as not yet valid', async (seconds) => {
      await expectRejected(await token({ issuedAt: NOW_SECONDS + seconds }), 'LICENSE.NOT_YET_VALID');
    });

    describe('expiry with a 14-day grace period', () => {
      const expiredFor = (seconds: number) => token({ issuedAt: NOW_SECONDS - seconds - 30 * DAY_SECONDS, expiresAt: NOW_SECONDS - seconds });

      it.each([
        ['1 day', DAY_SECONDS],
        ['exactly 14 days', 14 * DAY_SECONDS],
      ])('honours a token expired for %s', async (_case, seconds) => {
        await expect(verifier().verify(await expiredFor(seconds))).resolves.toBeDefined();
      });

      it.each([
        ['14 days and 1 s', 14 * DAY_SECONDS + 1],
        ['15 days', 15 * DAY_SECONDS],
      ])('rejects a token expired for %s', async (_case, seconds) => {
        await expectRejected(await expiredFor(seconds), 'LICENSE.EXPIRED');
      });
    });

    it('without a grace period, honours a token until its exp and rejects it a second later', async () => {
      const clock = new FixedClock(NOW);
      const noGrace = verifier({ gracePeriodMs: 0 }, clock);
      const jwt = await token({ expiresAt: NOW_SECONDS });

      await expect(noGrace.verify(jwt)).resolves.toBeDefined();
      clock.advance(SECOND);
      await expectRejected(jwt, 'LICENSE.EXPIRED', noGrace);
    });
  });

  describe('instance binding', () => {
    it('accepts a token bound to this instance', async () => {
      const { claims } = await verifier().verify(await token({ instanceId: INSTANCE_ID }));

      expect(claims.instanceId).toBe(INSTANCE_ID);
    });

    it('rejects a token bound to another instance', async () => {
      await expectRejected(await token({ instanceId: 'instance-0002' }), 'LICENSE.INSTANCE_MISMATCH');
    });
  });

  describe('size', () => {
    const paddedToken = (padding: number, headerPadding = '') =>
      token({ header: { pad: headerPadding }, claims: { padding: 'x'.repeat(padding) } });

    /** Base64url never yields some lengths; padding the header too lets the token reach any exact size. */
    async function tokenOfExactly(bytes: number): Promise<string> {
      for (const headerPadding of ['', '-', '--']) {
        const unpadded = (await paddedToken(0, headerPadding)).length;
        let padding = Math.max(0, Math.floor(((bytes - unpadded) * 3) / 4) - 3);
        while ((await paddedToken(padding, headerPadding)).length < bytes) padding += 1;
        const jwt = await paddedToken(padding, headerPadding);
        if (jwt.length === bytes) return jwt;
      }
      throw new Error(`test setup: no token of exactly ${bytes} bytes`);
    }

    it('accepts a token of exactly 16 KiB', async () => {
      await expect(verifier().verify(await tokenOfExactly(MAX_TOKEN_BYTES))).resolves.toBeDefined();
    });

    it('rejects a token one byte over 16 KiB', async () => {
      await expectRejected(await tokenOfExactly(MAX_TOKEN_BYTES + 1), 'LICENSE.TOO_LARGE');
    });

    it('rejects a validly signed token with a huge claim', async () => {
      await expectRejected(await paddedToken(20_000), 'LICENSE.TOO_LARGE');
    });

    it('rejects an oversized string before trying to parse it', async () => {
      await expectRejected('x'.repeat(MAX_TOKEN_BYTES + 1), 'LICENSE.TOO_LARGE');
    });

    it('counts bytes, not characters', async () => {
      const twoBytesEach = 'é'.repeat(MAX_TOKEN_BYTES / 2 + 1);

      await expectRejected(twoBytesEach, 'LICENSE.TOO_LARGE');
    });
  });

  describe('malformed input', () => {
    it.each([
      ['an empty string', ''],
      ['a word', 'not-a-token'],
      ['two parts', 'a.b'],
      ['four parts', 'a.b.c.d'],
      ['parts that are not base64url', '%%%.%%%.%%%'],
      ['a header that is not JSON', `${base64url('alg=EdDSA')}.e30.c2ln`],
      ['a header that is a JSON array', `${base64url('["EdDSA"]')}.e30.c2ln`],
    ])('rejects %s', async (_case, jwt) => {
      await expectRejected(jwt, 'LICENSE.MALFORMED');
    });

    it('rejects a signed token with a fourth part appended', async () => {
      await expectRejected(`${await token()}.c2ln`, 'LICENSE.MALFORMED');
    });

    it('rejects a correctly signed payload that is not UTF-8', async () => {
      const claims = JSON.stringify({ iss: TEST_ISSUER, sub: 'lic-test-0001', tier: 'pro', iat: NOW_SECONDS, exp: NOW_SECONDS + DAY_SECONDS });
      const latin1 = Buffer.from(claims.replace('"pro"', '"pro", "org_name": "Soci\u00e9t\u00e9"'), 'latin1');
      const jwt = await new CompactSign(latin1).setProtectedHeader({ alg: 'EdDSA', kid: trusted.kid }).sign(trusted.privateKey);

      await expectRejected(jwt, 'LICENSE.MALFORMED');
    });

    it.each([
      ['a JSON array', JSON.stringify([{ iss: TEST_ISSUER, sub: 'lic-test-0001', tier: 'pro' }])],
      ['JSON null', 'null'],
      ['a JSON string', '"pro"'],
      ['not JSON', 'tier=pro'],
    ])('rejects a correctly signed payload that is %s', async (_case, payload) => {
      await expectRejected(await signedPayload(payload), 'LICENSE.MALFORMED');
    });
  });

  describe('what each refusal says (never quoting the token)', () => {
    const messageOf = async (jwt: string, by = verifier()) => (await rejectionOf(by, jwt)).message;
    const validClaims = () => ({ iss: TEST_ISSUER, sub: 'lic-test-0001', tier: 'pro', iat: NOW_SECONDS - 60, exp: NOW_SECONDS + DAY_SECONDS });

    it.each<[string, () => Promise<string> | string, LicenseTokenErrorCode, string]>([
      ['too large', () => 'x'.repeat(16 * 1024 + 1), 'LICENSE.TOO_LARGE', 'license token is larger than 16384 bytes'],
      ['not three parts', () => 'a.b', 'LICENSE.MALFORMED', 'license token is not a compact JWS (three dot-separated parts)'],
      ['an empty part', () => 'e30..c2ln', 'LICENSE.MALFORMED', 'license token has an empty part'],
      [
        'not canonical base64url',
        () => 'e30=.e30.c2ln',
        'LICENSE.MALFORMED',
        'license token is not canonical base64url (RFC 7515 §2: no padding, white space or other characters)',
      ],
      ['a header that is not JSON', () => `${base64url('alg=EdDSA')}.e30.c2ln`, 'LICENSE.MALFORMED', 'license token header is not UTF-8 JSON'],
      ['a header that is a JSON array', () => `${base64url('["EdDSA"]')}.e30.c2ln`, 'LICENSE.MALFORMED', 'license token header is not a JSON object'],
      [
        'another algorithm',
        async () => forged(await token(), { alg: 'HS256', kid: trusted.kid }, partsOf(await token()).signature),
        'LICENSE.ALGORITHM_REJECTED',
        'algorithm "HS256" is not accepted; only EdDSA is',
      ],
      [
        'a refused header parameter',
        async () => token({ header: { jku: 'https://evil.example/keys' } }),
        'LICENSE.MALFORMED',
        'license token header carries "jku", which licenses never use',
      ],
      ['another typ', async () => token({ header: { typ: 'JOSE' } }), 'LICENSE.MALFORMED', 'license token type "JOSE" is not JWT'],
      ['no kid', async () => token({ header: { kid: undefined } }), 'LICENSE.UNKNOWN_KEY', 'license token names no key ("kid")'],
      ['an unknown kid', async () => token({ header: { kid: 'other-key' } }), 'LICENSE.UNKNOWN_KEY', 'key "other-key" is not a trusted license key'],
      [
        'a bad signature',
        async () => `${(await token()).slice(0, -4)}AAAA`,
        'LICENSE.SIGNATURE_INVALID',
        'license token signature does not verify',
      ],
      [
        'another issuer',
        async () => token({ issuer: 'https://evil.example' }),
        'LICENSE.ISSUER_MISMATCH',
        `issuer "https://evil.example" is not the expected "${TEST_ISSUER}"`,
      ],
      ['a payload that is not JSON', () => signedPayload('tier=pro'), 'LICENSE.MALFORMED', 'license token payload is not UTF-8 JSON'],
      ['a payload that is a JSON array', () => signedPayload('[]'), 'LICENSE.MALFORMED', 'license token payload is not a JSON object'],
    ])('%s', async (_case, make, code, message) => {
      const error = await rejectionOf(verifier(), await make());
      expect(error.code).toBe(code);
      expect(error.message).toBe(message);
    });

    it.each<[string, KeyObject, string]>([
      ['an X25519 key (jose cannot even use it)', generateKeyPairSync('x25519').publicKey, 'license token is not a valid JWS (unreadable)'],
      ['an RSA key (jose names its error)', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'license token is not a valid JWS (ERR_JOSE_NOT_SUPPORTED)'],
    ])('refuses a token whose kid names %s as malformed, not as a bad signature', async (_case, key, message) => {
      const error = await rejectionOf(verifier({ keys: new Map([[trusted.kid, key]]) }), await token());
      expect(error.code).toBe('LICENSE.MALFORMED');
      expect(error.message).toBe(message);
    });

    it.each([
      ['a JSON number', '42'],
      ['a JSON string', '"EdDSA"'],
      ['JSON null', 'null'],
    ])('refuses a header that is %s as not a JSON object', async (_case, header) => {
      const { payload, signature } = partsOf(await token());
      expect(await messageOf(`${base64url(header)}.${payload}.${signature}`)).toBe('license token header is not a JSON object');
    });

    it('refuses a signed payload with a byte-order mark before valid claims (RFC 8259 §8.1)', async () => {
      const withBom = new CompactSign(Buffer.from(`\ufeff${JSON.stringify(validClaims())}`, 'utf8'))
        .setProtectedHeader({ alg: 'EdDSA', kid: trusted.kid })
        .sign(trusted.privateKey);

      expect(await messageOf(await withBom)).toBe('license token payload is not UTF-8 JSON');
      const without = new CompactSign(Buffer.from(JSON.stringify(validClaims()), 'utf8')).setProtectedHeader({ alg: 'EdDSA', kid: trusted.kid });
      await expect(verifier().verify(await without.sign(trusted.privateKey))).resolves.toBeDefined();
    });

    it('refuses a signed payload with an invalid UTF-8 byte inside a string of otherwise valid claims', async () => {
      const json = Buffer.from(JSON.stringify({ ...validClaims(), org_name: 'Acme #' }), 'utf8');
      json[json.indexOf('#')] = 0xff; // a lone byte that is never UTF-8; a lenient decoder makes it U+FFFD
      const jwt = await new CompactSign(json).setProtectedHeader({ alg: 'EdDSA', kid: trusted.kid }).sign(trusted.privateKey);

      expect(await messageOf(jwt)).toBe('license token payload is not UTF-8 JSON');
    });

    it('refuses a header with an invalid UTF-8 byte inside a string of an otherwise valid header', async () => {
      const json = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: trusted.kid, note: '#' }), 'utf8');
      json[json.indexOf('#')] = 0xff;
      const { payload, signature } = partsOf(await token());

      expect(await messageOf(`${json.toString('base64url')}.${payload}.${signature}`)).toBe('license token header is not UTF-8 JSON');
    });
  });
});
