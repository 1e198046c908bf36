import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_SAFE_TEXT_CODE_POINTS, REDACTED, TextGate } from '../../../src/domain/model/safe-text.js';

const API_KEY = 'sk-live-4f9c2a7e1b3d5f60';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const STATIC_JWT = 'eyJhbGciOiJFZERTQSJ9.eyJ0aWVyIjoicHJvIn0.c2lnbmF0dXJlLWJ5dGVz';
const gate = () => new TextGate([API_KEY, ADMIN_TOKEN, STATIC_JWT]);

// Everything the gate must never let through: C0/C1 controls, line separators, bidi controls.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('TextGate', () => {
  it('removes a whole API key quoted by the backend (the revoked-key 401 of the issue)', () => {
    expect(gate().pass(`The API key ${API_KEY} was revoked`)).toBe(`The API key ${REDACTED} was revoked`);
  });

  it('removes secrets before cutting, so that no prefix of a key survives a cut', () => {
    const text = `${'x'.repeat(MAX_SAFE_TEXT_CODE_POINTS - 10)} ${API_KEY}`;
    const passed = gate().pass(text);
    expect(passed).not.toContain('sk-live');
    expect(Array.from(passed)).toHaveLength(MAX_SAFE_TEXT_CODE_POINTS);
    expect(passed.endsWith('…')).toBe(true);
  });

  it('removes a key split by a control character and a key quoted in part', () => {
    expect(gate().pass(`key sk-live-4f9c\u0000 2a7e1b3d5f60 end`)).not.toMatch(/2a7e1b3d|sk-live-4/);
    expect(gate().pass('prefix 4f9c2a7e1b3d suffix')).toBe(`prefix ${REDACTED} suffix`);
  });

  it('removes the JSON-escaped form of a secret', () => {
    const quoted = 'tok"en\\with-quotes';
    expect(new TextGate([quoted]).pass(JSON.stringify({ token: quoted }))).not.toContain('en\\\\with');
  });

  it('removes any JWT-shaped text and bearer credentials, configured or not', () => {
    expect(gate().pass('got eyJabc.def.ghi and more')).toBe(`got ${REDACTED} and more`);
    expect(gate().pass('Authorization: Bearer abc.def-123_4567890')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(gate().pass('refused: no bearer token')).toBe('refused: no bearer token');
  });

  it('turns controls, line separators and bidi controls into spaces and trims', () => {
    expect(gate().pass('\u202eline\u2028two\r\nthree\u0085\u200f ')).toBe('line two three');
  });

  it('cuts on code points, never inside a surrogate pair', () => {
    const passed = gate().pass('😀'.repeat(400), 10);
    expect(Array.from(passed)).toEqual([...Array(9).fill('😀'), '…']);
  });

  it('is idempotent', () => {
    const once = gate().pass(`${'é'.repeat(500)} ${API_KEY}`);
    expect(gate().pass(once)).toBe(once);
  });

  it('passOptional gives null for non-strings and blank text', () => {
    expect(gate().passOptional(undefined)).toBeNull();
    expect(gate().passOptional(42)).toBeNull();
    expect(gate().passOptional(' \u0000 ')).toBeNull();
    expect(gate().passOptional('ok')).toBe('ok');
  });

  it('ignores null and too short secrets, and learns secrets later', () => {
    const later = new TextGate([null, 'abc']);
    expect(later.pass('abc')).toBe('abc');
    later.addSecret(ADMIN_TOKEN);
    expect(later.pass(`t=${ADMIN_TOKEN}`)).toBe(`t=${REDACTED}`);
  });

  it('renders a non-string with String() before the same rules', () => {
    expect(gate().pass(42)).toBe('42');
    expect(gate().pass(null)).toBe('null');
    expect(gate().pass(new Error(`bad key ${API_KEY}\nnext line`))).toBe(`Error: bad key ${REDACTED} next line`);
  });

  it('matches a secret of 4 to 7 characters whole, the longest first; a 3-character one is not searched for', () => {
    const short = new TextGate(['abc', 'pin4', 'pin4567']);
    expect(short.pass('abc pin4 pin4567 pin456')).toBe(`abc ${REDACTED} ${REDACTED} ${REDACTED}56`);
  });

  it('ignores an undefined secret too (an unset optional setting)', () => {
    expect(new TextGate([undefined, API_KEY]).pass(`k=${API_KEY}`)).toBe(`k=${REDACTED}`);
  });

  it('passes text of exactly the longest length whole, and cuts one code point more', () => {
    const longest = 'x'.repeat(MAX_SAFE_TEXT_CODE_POINTS);
    expect(gate().pass(longest)).toBe(longest);
    expect(gate().pass(`${longest}y`)).toBe(`${'x'.repeat(MAX_SAFE_TEXT_CODE_POINTS - 1)}…`);
  });

  it('removes a bearer credential after several spaces', () => {
    expect(gate().pass('Authorization: Bearer   abcdefghijklmnop1234')).toBe(`Authorization: Bearer ${REDACTED}`);
  });

  it('removes overlapping occurrences of an 8-character secret as one run, leaving none of its characters', () => {
    expect(new TextGate(['aaaaaaaa']).pass('x aaaaaaaaa y')).toBe(`x ${REDACTED} y`);
  });

  it('a secret of exactly 8 characters is caught by its one window', () => {
    expect(new TextGate(['12345678']).pass('a12345678b 1234567')).toBe(`a${REDACTED}b 1234567`);
  });

  it('property: no output holds a control or bidi character, or 8+ characters of a secret', () => {
    const secretArb = fc.string({ minLength: 8, maxLength: 40, unit: 'grapheme-ascii' });
    fc.assert(
      fc.property(
        secretArb,
        fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('\u202e', '\u2028', '\n', '\u0085')), { maxLength: 6 }),
        fc.nat({ max: 400 }),
        (secret, noise, max) => {
          // the secret, whole and in pieces, among hostile characters
          const pieces = [secret, secret.slice(0, secret.length - 1), secret.slice(1)];
          const text = [...noise, ...pieces, ...noise.reverse()].join('');
          const out = new TextGate([secret]).pass(text, Math.max(1, max));
          expect(out).not.toMatch(UNSAFE);
          const escaped = JSON.stringify(secret).slice(1, -1);
          for (const form of [secret, escaped]) {
            for (let i = 0; i + 8 <= form.length; i += 1) expect(out).not.toContain(form.slice(i, i + 8));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('TextGate.scrubJsonLine', () => {
  it('removes secrets, JWTs and bearer credentials from a JSON line, keeping its framing', () => {
    const line = `${JSON.stringify({ msg: `key ${API_KEY}`, nested: { auth: 'Bearer abcdefghijklmnop1234', t: 'eyJa.b.c', sep: '\u2028\u202e' } })}\n`;
    const scrubbed = gate().scrubJsonLine(line);
    expect(scrubbed.endsWith('}\n')).toBe(true);
    expect(JSON.parse(scrubbed)).toEqual({ msg: `key ${REDACTED}`, nested: { auth: `Bearer ${REDACTED}`, t: REDACTED, sep: ' ' } });
  });
});
