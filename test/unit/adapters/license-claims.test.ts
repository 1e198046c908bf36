import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseLicenseClaims, tokenId } from '../../../src/adapters/jose/license-claims.js';
import { LicenseTokenError } from '../../../src/domain/model/errors.js';
import { DAY } from '../../support/fixed-clock.js';
import { RecordingLogger } from '../../support/recording-logger.js';

/** DESIGN §3's features, written out, in canonical order. */
const FEATURE_NAMES = ['materialized_views', 'jdbc_driver', 'adbc_driver', 'flight_sql', 'federation', 'repl'];

/** ECMAScript's last representable instant (ECMA-262 §21.4.1.22), in ms since the epoch. */
const MAX_DATE_MS = 8.64e15;
/** The longest grace period a license can carry: grace_period_days at most 365. */
const MAX_GRACE_MS = 365 * DAY;
/** The last exp (seconds) whose end of grace is still a date. */
const LAST_EXP = (MAX_DATE_MS - MAX_GRACE_MS) / 1000;

const NOW_SECONDS = Date.parse('2026-06-01T00:00:00Z') / 1000;

/** A valid payload with `claims` merged in (undefined removes a claim). */
function payloadWith(claims: Record<string, unknown> = {}): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    iss: 'https://license.test.example',
    sub: 'lic-0001',
    tier: 'pro',
    iat: NOW_SECONDS - 60,
    exp: NOW_SECONDS + 365 * 86_400,
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return payload;
}

function claimsError(payload: Record<string, unknown>): LicenseTokenError {
  try {
    parseLicenseClaims(payload);
  } catch (error) {
    if (error instanceof LicenseTokenError) return error;
    throw error;
  }
  throw new Error('expected the claims to be refused');
}

const expectInvalid = (claims: Record<string, unknown>) => expect(claimsError(payloadWith(claims)).code).toBe('LICENSE.CLAIMS_INVALID');

describe('parseLicenseClaims', () => {
  describe('grace_period_days (DESIGN §3, amended 2026-11-30)', () => {
    it.each([0, 1, 14, 365])('reads %i', (days) => {
      expect(parseLicenseClaims(payloadWith({ grace_period_days: days })).gracePeriodDays).toBe(days);
    });

    it.each([
      ['absent', undefined],
      ['JSON null', null],
    ])('is null when %s', (_case, value) => {
      expect(parseLicenseClaims(payloadWith({ grace_period_days: value })).gracePeriodDays).toBeNull();
    });

    it.each<[string, unknown]>([
      ['negative', -1],
      ['over 365', 366],
      ['fractional', 1.5],
      ['a string', '14'],
      ['a boolean', true],
      ['an array', [14]],
      ['infinite (1e400 in JSON)', Number.POSITIVE_INFINITY],
    ])('refuses %s', (_case, value) => {
      expectInvalid({ grace_period_days: value });
    });
  });

  describe('dates that a Date cannot hold are invalid claims, never an Invalid Date', () => {
    it('accepts the last exp whose end of grace (365 days later) is still a date', () => {
      const { expiresAt } = parseLicenseClaims(payloadWith({ exp: LAST_EXP }));

      expect(expiresAt.getTime()).toBe(LAST_EXP * 1000);
      expect(Number.isNaN(new Date(expiresAt.getTime() + MAX_GRACE_MS).getTime())).toBe(false);
    });

    it.each([
      ['one second later', LAST_EXP + 1],
      ['a millisecond later', LAST_EXP + 0.001],
      ['the last date itself (8640000000000), which broke timers and metrics', MAX_DATE_MS / 1000],
      ['beyond any date', 1e13],
    ])('refuses exp %s', (_case, exp) => {
      expectInvalid({ exp });
    });

    it.each(['iat', 'nbf'])('accepts %s at the last date and refuses it a second later', (name) => {
      expect(() => parseLicenseClaims(payloadWith({ [name]: MAX_DATE_MS / 1000, exp: LAST_EXP }))).not.toThrow();
      expectInvalid({ [name]: MAX_DATE_MS / 1000 + 1 });
    });

    it('keeps fractional NumericDates (RFC 7519 §2 allows them)', () => {
      const { issuedAt, expiresAt, notBefore } = parseLicenseClaims(payloadWith({ iat: NOW_SECONDS + 0.25, nbf: NOW_SECONDS + 0.5, exp: NOW_SECONDS + 0.75 }));

      expect([issuedAt, notBefore, expiresAt].map((date) => date?.getTime())).toEqual([0.25, 0.5, 0.75].map((s) => (NOW_SECONDS + s) * 1000));
    });

    it('never yields an invalid date, for any number in any date claim', () => {
      const anyNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(LAST_EXP, LAST_EXP + 1, MAX_DATE_MS / 1000, -0, 0));
      fc.assert(
        fc.property(anyNumber, anyNumber, fc.option(anyNumber, { nil: undefined }), (iat, exp, nbf) => {
          let claims;
          try {
            claims = parseLicenseClaims(payloadWith({ iat, exp, nbf }));
          } catch (error) {
            return error instanceof LicenseTokenError && error.code === 'LICENSE.CLAIMS_INVALID';
          }
          const endOfGrace = new Date(claims.expiresAt.getTime() + MAX_GRACE_MS);
          return [claims.issuedAt, claims.expiresAt, claims.notBefore ?? claims.issuedAt, endOfGrace].every((date) => !Number.isNaN(date.getTime()));
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('features', () => {
    it('are trimmed and matched case-insensitively, in canonical order', () => {
      expect(parseLicenseClaims(payloadWith({ features: [' REPL ', 'Jdbc_Driver', 'flight_sql\t', 'teleport'] })).features).toEqual([
        'jdbc_driver',
        'flight_sql',
        'repl',
      ]);
    });

    it('are trimmed as the original product trims (Java String.trim: up to U+0020), not of other spaces', () => {
      const features = ['\u0000repl\u001f', '\r\njdbc_driver \u000b', '\u00a0flight_sql', 'federation\u2028', '\ufeffadbc_driver'];

      expect(parseLicenseClaims(payloadWith({ features })).features).toEqual(['jdbc_driver', 'repl']);
    });

    it('are lower-cased as the original does: every known name in any case is kept', () => {
      expect(parseLicenseClaims(payloadWith({ features: FEATURE_NAMES.map((name) => name.toUpperCase()) })).features).toEqual(FEATURE_NAMES);
    });

    it('an empty list grants none (unlike an absent or null one)', () => {
      expect(parseLicenseClaims(payloadWith({ features: [] })).features).toEqual([]);
    });

    it.each<[string, unknown]>([
      ['a number among them', ['repl', 1]],
      ['null among them', ['repl', null]],
    ])('refuses %s (names are strings)', (_case, features) => {
      expectInvalid({ features });
    });
  });

  describe('platform', () => {
    it.each([
      ['PRODUCTION', 'PRODUCTION'],
      [' staging ', 'STAGING'],
      ['Development', 'DEVELOPMENT'],
      ['\tintegration\r\n', 'INTEGRATION'],
      ['\u0000production\u001f', 'PRODUCTION'],
      // Compared upper-cased, as the original does: the long s upper-cases to S there too.
      ['\u017ftaging', 'STAGING'],
    ])('reads %p as %s', (value, platform) => {
      expect(parseLicenseClaims(payloadWith({ platform: value })).platform).toBe(platform);
    });

    it('ignores an unknown platform with a WARN, instead of refusing the license', () => {
      const logger = new RecordingLogger();

      expect(parseLicenseClaims(payloadWith({ platform: 'PROD' }), logger).platform).toBeNull();
      expect(logger.at('warn')).toEqual(['License token platform "PROD" is not one of PRODUCTION, STAGING, INTEGRATION, DEVELOPMENT; ignored']);
    });

    it.each(['\u00a0STAGING', 'STAGING\u3000', 'PRODUCTION\u200b', ''])('ignores %p, which the original does not trim or match either', (value) => {
      expect(parseLicenseClaims(payloadWith({ platform: value }), new RecordingLogger()).platform).toBeNull();
    });

    it('quotes a long unknown platform bounded', () => {
      const logger = new RecordingLogger();

      parseLicenseClaims(payloadWith({ platform: 'X'.repeat(1000) }), logger);

      expect(logger.at('warn')[0]?.length).toBeLessThan(200);
    });

    it.each<[string, unknown]>([
      ['a number', 1],
      ['an array', ['PRODUCTION']],
    ])('refuses %s', (_case, platform) => {
      expectInvalid({ platform });
    });
  });

  describe('explicit JSON null for an optional claim means absent', () => {
    it.each<[string, string, unknown]>([
      ['trial', 'trial', false],
      ['org_name', 'orgName', null],
      ['platform', 'platform', null],
      ['instance_id', 'instanceId', null],
      ['features', 'features', null],
      ['quotas', 'quotas', {}],
      ['nbf', 'notBefore', null],
      ['grace_period_days', 'gracePeriodDays', null],
    ])('%s: null', (claim, field, expected) => {
      const withNull = parseLicenseClaims(payloadWith({ [claim]: null })) as unknown as Record<string, unknown>;
      const absent = parseLicenseClaims(payloadWith({ [claim]: undefined })) as unknown as Record<string, unknown>;

      expect(withNull[field]).toEqual(expected);
      expect(withNull).toStrictEqual(absent);
    });

    it('jti: null', () => {
      expect(tokenId(payloadWith({ jti: null }))).toBeNull();
      expect(tokenId(payloadWith())).toBeNull();
    });

    it.each(['sub', 'tier', 'iat', 'exp'])('but a required claim (%s) may not be null', (claim) => {
      expectInvalid({ [claim]: null });
    });
  });

  describe('jti', () => {
    it('is read when a string', () => {
      expect(tokenId(payloadWith({ jti: 'jti-0042' }))).toBe('jti-0042');
    });

    it.each<[string, unknown]>([
      ['a number', 42],
      ['an object', { id: 1 }],
    ])('refuses %s', (_case, jti) => {
      expect(() => tokenId(payloadWith({ jti }))).toThrow(expect.objectContaining({ code: 'LICENSE.CLAIMS_INVALID' }));
    });
  });

  describe('quotas', () => {
    it.each<[string, unknown]>([
      ['negative', -1],
      ['fractional', 2.5],
      ['beyond the safe integers', 2 ** 53],
      ['infinite', Number.POSITIVE_INFINITY],
      ['a numeric string', '5'],
    ])('refuses a limit that is %s', (_case, limit) => {
      expectInvalid({ quotas: { max_joins: limit } });
    });

    it('reads null as unlimited', () => {
      expect(parseLicenseClaims(payloadWith({ quotas: { max_joins: null } })).quotas).toEqual({ max_joins: null });
    });
  });

  describe('what each refusal says', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ['a missing tier', { tier: undefined }, '"tier" must be one of community, pro, enterprise'],
      ['an empty sub', { sub: '' }, '"sub" must be a non-empty string'],
      ['a missing iat', { iat: undefined }, '"iat" is required'],
      ['a string exp', { exp: '1780000000' }, '"exp" must be a NumericDate'],
      ['an iat too large for a number (1e400 is Infinity)', { iat: Number.POSITIVE_INFINITY }, '"iat" must be a NumericDate'],
      ['a negative nbf', { nbf: -1 }, '"nbf" must be a NumericDate'],
      ['an nbf past the last date', { nbf: MAX_DATE_MS / 1000 + 1 }, '"nbf" is out of range'],
      ['a fractional grace_period_days', { grace_period_days: 1.5 }, '"grace_period_days" must be an integer from 0 to 365'],
      ['a numeric org_name', { org_name: 7 }, '"org_name" must be a string'],
      ['a string trial', { trial: 'yes' }, '"trial" must be a boolean'],
      ['features that are not strings', { features: [1] }, '"features" must be an array of strings'],
      ['quotas that are an array', { quotas: [1] }, '"quotas" must be an object'],
      ['a negative quota', { quotas: { max_joins: -1 } }, 'quota "max_joins" must be a non-negative integer or null'],
      ['a numeric platform', { platform: 1 }, '"platform" must be a string, one of PRODUCTION, STAGING, INTEGRATION, DEVELOPMENT'],
    ])('%s', (_case, claims, reason) => {
      const error = claimsError(payloadWith(claims));
      expect(error.code).toBe('LICENSE.CLAIMS_INVALID');
      expect(error.message).toBe(`license token claims are invalid: ${reason}`);
    });
  });

  describe('the lower bounds are included', () => {
    it('reads NumericDate 0 (the epoch) as a date', () => {
      expect(parseLicenseClaims(payloadWith({ nbf: 0 })).notBefore).toEqual(new Date(0));
    });

    it('reads a quota of 0 as 0 (nothing allowed), not as invalid', () => {
      expect(parseLicenseClaims(payloadWith({ quotas: { max_joins: 0 } })).quotas).toEqual({ max_joins: 0 });
    });
  });

  it('ignores an unknown platform without a logger to warn', () => {
    expect(parseLicenseClaims(payloadWith({ platform: 'MARS' })).platform).toBeNull();
  });
});
