import { describe, expect, it } from '@jest/globals';
import { backendErrorBody, parseIssuedToken, parseRetryAfter } from '../../../src/adapters/http/token-response.js';
import { TextGate } from '../../../src/domain/model/safe-text.js';
import { BackendError } from '../../../src/domain/model/errors.js';
import { MINUTE, SECOND } from '../../support/fixed-clock.js';

const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJ0aWVyIjoicHJvIn0.c2lnbmF0dXJl';
const NOW = new Date('2026-06-01T00:00:00Z');
const GATE = new TextGate(['sk-live-secret-key-0001']);

function parseFailure(body: string): BackendError {
  try {
    parseIssuedToken(body, GATE);
  } catch (error) {
    if (error instanceof BackendError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be refused`);
}

describe('backend text through the text gate (what replaced quoteBackendText)', () => {
  const quoteBackendText = (value: unknown) => GATE.passOptional(value);
  it('returns a plain string unchanged', () => {
    expect(quoteBackendText('Your trial ends in 5 days')).toBe('Your trial ends in 5 days');
  });

  it.each([null, undefined, 42, true, { message: 'x' }, ['x']])('is null for the non-string %p', (value) => {
    expect(quoteBackendText(value)).toBeNull();
  });

  it.each(['', '   ', '\n\t', '\u0000\u001b'])('is null for text with nothing printable (%j)', (value) => {
    expect(quoteBackendText(value)).toBeNull();
  });

  it('replaces each run of C0, DEL and C1 control characters with one space and trims the ends', () => {
    expect(quoteBackendText('\n first\r\nsecond\u007fthird\u0085\u009bfourth\t ')).toBe('first second third fourth');
  });

  it('keeps printable non-ASCII text', () => {
    expect(quoteBackendText('Lizenz läuft ab — 5 Tage')).toBe('Lizenz läuft ab — 5 Tage');
  });

  it('keeps 300 characters as they are and cuts longer text to 300 with the ellipsis', () => {
    expect(quoteBackendText('a'.repeat(300))).toBe('a'.repeat(300));
    expect(quoteBackendText('b'.repeat(301))).toBe(`${'b'.repeat(299)}…`);
  });

  it('replaces line separators and bidi overrides, which could forge or reorder a log line', () => {
    expect(quoteBackendText('ok\u2028fake entry\u202eesrever\u2066x')).toBe('ok fake entry esrever x');
  });

  it('cuts on code points, never inside a surrogate pair', () => {
    expect(quoteBackendText('😀'.repeat(301))).toBe(`${'😀'.repeat(299)}…`);
  });

  it('cuts after removing control characters', () => {
    expect(quoteBackendText(`\n\n${'c'.repeat(300)}`)).toBe('c'.repeat(300));
  });
});

describe('parseIssuedToken', () => {
  it.each([
    ['a JSON number', '42'],
    ['a JSON string', '"eyJ.a.b"'],
    ['JSON null', 'null'],
  ])('refuses a body that is %s as not a JSON object', (_case, body) => {
    expect(parseFailure(body).message).toBe('license backend sent a malformed answer: the body is not a JSON object');
  });

  it('reads an expires_in too large for a number (1e400 is Infinity) as null: advisory', () => {
    expect(parseIssuedToken(`{"jwt": "${JWT}", "expires_in": 1e400}`, GATE).expiresInSeconds).toBeNull();
  });

  it('reads jwt, expires_in and message', () => {
    expect(parseIssuedToken(JSON.stringify({ jwt: JWT, expires_in: 86_400, message: "Renewed" }), GATE)).toEqual({
      jwt: JWT,
      expiresInSeconds: 86_400,
      message: 'Renewed',
    });
  });

  it.each([
    ['absent', {}],
    ['null', { expires_in: null, message: null }],
  ])('gives null for expires_in and message when they are %s', (_case, fields) => {
    expect(parseIssuedToken(JSON.stringify({ jwt: JWT, ...fields }), GATE)).toEqual({ jwt: JWT, expiresInSeconds: null, message: null });
  });

  it.each([
    ['negative', -1],
    ['a string', '86400'],
    ['not finite', 1e400],
    ['an object', { seconds: 1 }],
  ])('treats an expires_in that is %s as advisory: null, the token is not refused (DESIGN §4, amended)', (_case, expiresIn) => {
    expect(parseIssuedToken(JSON.stringify({ jwt: JWT, expires_in: expiresIn }), GATE)).toEqual({ jwt: JWT, expiresInSeconds: null, message: null });
  });

  it('removes a configured secret from the message before cutting', () => {
    const message = `${'x'.repeat(295)} sk-live-secret-key-0001`;
    expect(parseIssuedToken(JSON.stringify({ jwt: JWT, message }), GATE).message).not.toContain('sk-live');
  });

  it('accepts expires_in 0', () => {
    expect(parseIssuedToken(JSON.stringify({ jwt: JWT, expires_in: 0 }), GATE).expiresInSeconds).toBe(0);
  });

  it('quotes the message for the log', () => {
    expect(parseIssuedToken(JSON.stringify({ jwt: JWT, message: 'line one\nline two' }), GATE).message).toBe('line one line two');
    expect(parseIssuedToken(JSON.stringify({ jwt: JWT, message: '  ' }), GATE).message).toBeNull();
  });

  it.each([
    ['malformed JSON', '{"jwt": "eyJ', 'the body is not a JSON object'],
    ['an empty body', '', 'the body is not a JSON object'],
    ['a JSON array', JSON.stringify([{ jwt: JWT }]), 'the body is not a JSON object'],
    ['JSON null', 'null', 'the body is not a JSON object'],
    ['a JSON string', JSON.stringify(JWT), 'the body is not a JSON object'],
    ['a missing jwt', JSON.stringify({ expires_in: 86_400 }), '"jwt" is missing or not a non-empty string'],
    ['a null jwt', JSON.stringify({ jwt: null }), '"jwt" is missing or not a non-empty string'],
    ['a numeric jwt', JSON.stringify({ jwt: 42 }), '"jwt" is missing or not a non-empty string'],
    ['an empty jwt', JSON.stringify({ jwt: '' }), '"jwt" is missing or not a non-empty string'],
    ['a numeric message', JSON.stringify({ jwt: JWT, message: 7 }), '"message" is not a string'],
    ['an object message', JSON.stringify({ jwt: JWT, message: { text: 'hi' } }), '"message" is not a string'],
  ])('refuses %s as BACKEND.MALFORMED_RESPONSE with a clear message', (_case, body, reason) => {
    const error = parseFailure(body);

    expect(error.code).toBe('BACKEND.MALFORMED_RESPONSE');
    expect(error.message).toBe(`license backend sent a malformed answer: ${reason}`);
    expect(error.status).toBe(200);
  });

  it('never quotes the body in its error, which could hold a token', () => {
    expect(parseFailure(JSON.stringify({ jwt: 42, secret: JWT })).message).not.toContain(JWT);
  });
});

describe('backendErrorBody', () => {
  const reasonOf = (body: string) => backendErrorBody(body, GATE)?.reason;

  it('is the error and message of the backend\'s JSON error', () => {
    expect(backendErrorBody(JSON.stringify({ error: 'api_key_revoked', message: 'Key revoked by admin' }), GATE)).toEqual({
      error: 'api_key_revoked',
      reason: 'Key revoked by admin',
    });
  });

  it.each([
    ['absent', {}],
    ['null', { message: null }],
    ['blank', { message: ' \n ' }],
    ['not a string', { message: 17 }],
  ])('falls back to the error code when the message is %s', (_case, fields) => {
    expect(reasonOf(JSON.stringify({ error: 'api_key_revoked', ...fields }))).toBe('api_key_revoked');
  });

  it('passes the message through the text gate: the revoked key it quotes is removed', () => {
    expect(reasonOf(JSON.stringify({ error: 'api_key_revoked', message: 'The API key sk-live-secret-key-0001 was\r\nrevoked' }))).toBe(
      'The API key [REDACTED] was revoked',
    );
  });

  it.each([
    ['not JSON (a proxy\'s HTML page)', '<html><body>Unauthorized</body></html>'],
    ['empty', ''],
    ['a JSON array', JSON.stringify([{ error: 'x' }])],
    ['JSON without error', JSON.stringify({ message: 'x' })],
    ['JSON with a non-string error', JSON.stringify({ message: 'x', error: { code: 2 } })],
  ])('is null when the body is %s: not the backend\'s verdict', (_case, body) => {
    expect(backendErrorBody(body, GATE)).toBeNull();
  });
});

describe('parseRetryAfter', () => {
  it('is null without the header', () => {
    expect(parseRetryAfter(null, NOW)).toBeNull();
  });

  it.each([
    ['120', 2 * MINUTE],
    ['0', 0],
    [' 30 ', 30 * SECOND],
  ])('reads delta-seconds %j', (header, expected) => {
    expect(parseRetryAfter(header, NOW)).toBe(expected);
  });

  it.each([
    ['IMF-fixdate', 'Mon, 01 Jun 2026 00:02:00 GMT'],
    ['obsolete RFC 850 date', 'Monday, 01-Jun-26 00:02:00 GMT'],
    ['obsolete asctime date, which is GMT without saying so', 'Mon Jun  1 00:02:00 2026'],
  ])('reads an HTTP date (%s) as the time left until then', (_case, header) => {
    expect(parseRetryAfter(header, NOW)).toBe(2 * MINUTE);
  });

  describe('an asctime date, which names no zone', () => {
    it('runs in a zone that is not UTC (jest.config.js sets TZ), so a date read as local time would show', () => {
      expect(new Date(2026, 5, 1).getTimezoneOffset()).not.toBe(0);
    });

    it.each([
      ['a one-digit day', 'Mon Jun  1 00:02:00 2026', Date.UTC(2026, 5, 1, 0, 2, 0)],
      ['a two-digit day', 'Wed Jun 10 00:02:00 2026', Date.UTC(2026, 5, 10, 0, 2, 0)],
      ['upper case names', 'WED JUN 10 00:02:00 2026', Date.UTC(2026, 5, 10, 0, 2, 0)],
    ])('reads it as GMT, not local time (%s)', (_case, header, utc) => {
      const now = new Date(Date.UTC(2026, 5, 1, 0, 0, 0));
      expect(parseRetryAfter(header, now)).toBe(utc - now.getTime());
    });
  });

  it('measures from the given time, not from the system clock', () => {
    expect(parseRetryAfter('Mon, 01 Jun 2026 00:02:00 GMT', new Date('2026-06-01T00:01:00Z'))).toBe(MINUTE);
  });

  it('clamps an absurd delta to one day so timer arithmetic cannot overflow', () => {
    expect(parseRetryAfter('99999999999999999999', NOW)).toBe(86_400 * SECOND);
  });

  it('gives 0 for a date already past', () => {
    expect(parseRetryAfter('Sun, 31 May 2026 23:00:00 GMT', NOW)).toBe(0);
  });

  it.each(['', 'soon', '-5', '+5', '1.5', '12abc', 'x12', '1 2', 'Mon, 99 Foo 2026 25:61:00 GMT', '2026-06-01', '06/01/2026'])('is null for the unreadable %j', (header) => {
    expect(parseRetryAfter(header, NOW)).toBeNull();
  });
});
