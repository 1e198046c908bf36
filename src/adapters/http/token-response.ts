import { BackendError } from '../../domain/model/errors.js';
import type { IssuedToken } from '../../ports/token-backend.port.js';

const MAX_QUOTED_TEXT = 300;

/** Backend-provided text made safe for one log line: no control characters, bounded length. */
export function quoteBackendText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  if (text.length === 0) return null;
  return text.length > MAX_QUOTED_TEXT ? `${text.slice(0, MAX_QUOTED_TEXT)}…` : text;
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
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date) || !/[a-z]/i.test(value)) return null;
  return Math.max(0, date - now.getTime());
}

function malformed(reason: string): BackendError {
  return new BackendError('BACKEND.MALFORMED_RESPONSE', `license backend sent a malformed answer: ${reason}`, { status: 200 });
}
