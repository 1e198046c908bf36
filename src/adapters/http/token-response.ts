import { BackendError } from '../../domain/model/errors.js';
import type { SafeText, TextGate } from '../../domain/model/safe-text.js';
import type { IssuedToken } from '../../ports/token-backend.port.js';

/** Far beyond any backoff cap; keeps a hostile `Retry-After` from overflowing timer arithmetic. */
const MAX_RETRY_AFTER_SECONDS = 86_400;

function parseJsonObject(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Parses the body of a 200 answer: `{"jwt": "...", "expires_in": 86400, "message": null}`.
 * `expires_in` is advisory (DESIGN §4, amended): the signed `exp` rules, so a negative, non-numeric
 * or missing value reads as null instead of refusing a valid token. `message` passes the text gate.
 */
export function parseIssuedToken(body: string, gate: TextGate): IssuedToken {
  const json = parseJsonObject(body);
  if (json === null) throw malformed('the body is not a JSON object');
  const { jwt, expires_in: expiresIn, message } = json;
  if (typeof jwt !== 'string' || jwt.length === 0) throw malformed('"jwt" is missing or not a non-empty string');
  if (message !== undefined && message !== null && typeof message !== 'string') throw malformed('"message" is not a string');
  const advisory = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn >= 0 ? expiresIn : null;
  return { jwt, expiresInSeconds: advisory, message: gate.passOptional(message) };
}

/**
 * The backend's own error body, `{"error": string, "message"?: string}` — the only form in which
 * it rejects an API key. Null for anything else (an intercepting proxy's HTML page, an empty body).
 */
export function backendErrorBody(body: string, gate: TextGate): { readonly error: string; readonly reason: SafeText | null } | null {
  const json = parseJsonObject(body);
  if (json === null || typeof json.error !== 'string') return null;
  return { error: json.error, reason: gate.passOptional(json.message) ?? gate.passOptional(json.error) };
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
