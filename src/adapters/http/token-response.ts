import { BackendError } from '../../domain/model/errors.js';
import type { IssuedToken } from '../../ports/token-backend.port.js';

const MAX_QUOTED_TEXT = 300;
/** Far beyond any backoff cap; keeps a hostile `Retry-After` from overflowing timer arithmetic. */
const MAX_RETRY_AFTER_SECONDS = 86_400;
/** C0/C1 controls, line/paragraph separators and bidi overrides: nothing that can forge or reorder a log line. */
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

/** Backend-provided text made safe for one log line: no control characters, bounded length. */
export function quoteBackendText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.replace(UNSAFE_TEXT, ' ').trim();
  if (text.length === 0) return null;
  const codePoints = Array.from(text);
  return codePoints.length > MAX_QUOTED_TEXT ? `${codePoints.slice(0, MAX_QUOTED_TEXT).join('')}…` : text;
}

function parseJsonObject(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Parses the body of a 200 answer: `{"jwt": "...", "expires_in": 86400, "message": null}`. */
export function parseIssuedToken(body: string): IssuedToken {
  const json = parseJsonObject(body);
  if (json === null) throw malformed('the body is not a JSON object');
  const { jwt, expires_in: expiresIn, message } = json;
  if (typeof jwt !== 'string' || jwt.length === 0) throw malformed('"jwt" is missing or not a non-empty string');
  if (expiresIn !== undefined && expiresIn !== null && !(typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn >= 0)) {
    throw malformed('"expires_in" is not a non-negative number');
  }
  if (message !== undefined && message !== null && typeof message !== 'string') throw malformed('"message" is not a string');
  return { jwt, expiresInSeconds: typeof expiresIn === 'number' ? expiresIn : null, message: quoteBackendText(message) };
}

/** The backend's explanation in an error body (`{"error": "...", "message": "..."}`), if any. */
export function backendReason(body: string): string | null {
  const json = parseJsonObject(body);
  return json === null ? null : (quoteBackendText(json.message) ?? quoteBackendText(json.error));
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; null when absent or invalid. */
export function parseRetryAfter(header: string | null, now: Date): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Math.min(Number(value), MAX_RETRY_AFTER_SECONDS) * 1000;
  // asctime dates carry no zone; RFC 9110 says they are GMT, Date.parse would read them as local time.
  const date = Date.parse(/^[a-z]{3} [a-z]{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/i.test(value) ? `${value} GMT` : value);
  if (Number.isNaN(date) || !/[a-z]/i.test(value)) return null;
  return Math.max(0, date - now.getTime());
}

function malformed(reason: string): BackendError {
  return new BackendError('BACKEND.MALFORMED_RESPONSE', `license backend sent a malformed answer: ${reason}`, { status: 200 });
}
