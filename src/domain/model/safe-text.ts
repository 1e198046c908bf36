declare const safeTextBrand: unique symbol;

/**
 * Text that passed the `TextGate`: printable on one line, bounded, free of every configured secret
 * and of anything shaped like a JWT or a bearer credential. Outputs (log messages, the admin API's
 * `message` and `last_error` fields, metric labels, configuration error lines) accept only this.
 */
export type SafeText = string & { readonly [safeTextBrand]: true };

/** What replaces a secret, a JWT-shaped or a `Bearer …` substring. */
export const REDACTED = '[REDACTED]';

/** The longest text, in code points, that passes whole; longer text is cut and ends with `…`. */
export const MAX_SAFE_TEXT_CODE_POINTS = 300;

/**
 * No run of this many characters of a secret may pass: a secret split by an inserted character, or
 * quoted only in part, is still caught. Shorter secrets are matched whole.
 */
const SECRET_WINDOW = 8;
/** Secrets shorter than this are not searched for: they would redact ordinary words. */
const SHORTEST_SECRET = 4;

// C0 and C1 controls, U+2028/2029, and the bidi embeddings, overrides, isolates and marks
// (U+061C, U+200E/200F, U+202A–202E, U+2066–2069): nothing that can forge or reorder a line.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;
// Two dots between base64url runs, the first starting like a JSON object: a compact JWS or JWE,
// whoever wrote it; and credentials in the `Bearer` scheme (RFC 6750): 16 characters or more, so
// that prose such as "no bearer token" is left alone.
// The same minus C0 controls, which a JSON serialiser escapes already (and a log line ends with "\n").
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
const BEARER_CREDENTIAL = /\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/gi;

/**
 * The one sanitiser for text that comes from outside (backend answers, token headers, library
 * errors, configuration values). In this order: controls and bidi characters become a space,
 * configured secrets and JWT-shaped or bearer substrings become `[REDACTED]`, and only then is the
 * text cut on a code point — so no prefix of a secret survives a cut. Idempotent.
 */
export class TextGate {
  /** Every run of `SECRET_WINDOW` characters of every long secret. */
  readonly #windows = new Set<string>();
  /** Secrets too short for windows, longest first. */
  #shortSecrets: string[] = [];

  constructor(secrets: Iterable<string | null | undefined> = []) {
    for (const secret of secrets) this.addSecret(secret);
  }

  /** Adds a secret learnt after start-up (a generated admin token); null and short values are ignored. */
  addSecret(secret: string | null | undefined): void {
    if (secret === null || secret === undefined || secret.length < SHORTEST_SECRET) return;
    // Also the JSON-escaped form, in case the text is a JSON document quoting the secret.
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      if (form.length < SECRET_WINDOW) {
        this.#shortSecrets = [...new Set([...this.#shortSecrets, form])].sort((a, b) => b.length - a.length);
        continue;
      }
      for (let i = 0; i + SECRET_WINDOW <= form.length; i += 1) this.#windows.add(form.slice(i, i + SECRET_WINDOW));
    }
  }

  /** `value` as safe text; non-strings are rendered with `String()` first. */
  pass(value: unknown, maxCodePoints = MAX_SAFE_TEXT_CODE_POINTS): SafeText {
    let text = (typeof value === 'string' ? value : String(value)).replace(UNSAFE_CHARACTERS, ' ');
    text = text.replace(JWT_SHAPED, REDACTED).replace(BEARER_CREDENTIAL, `Bearer ${REDACTED}`);
    text = this.#redactSecrets(text).trim();
    const codePoints = Array.from(text);
    if (codePoints.length > maxCodePoints) text = `${codePoints.slice(0, maxCodePoints - 1).join('')}…`;
    return text as SafeText;
  }

  /**
   * The same rules for a serialised JSON log line, as a last line of defence for nested fields:
   * secrets, JWT-shaped and bearer text removed, non-JSON-escaped unsafe characters replaced;
   * never cut, and C0 controls (escaped by JSON, the final newline) left alone.
   */
  scrubJsonLine(line: string): string {
    const text = line.replace(UNSAFE_IN_JSON, ' ').replace(JWT_SHAPED, REDACTED).replace(BEARER_CREDENTIAL, `Bearer ${REDACTED}`);
    return this.#redactSecrets(text);
  }

  /** Like `pass`, but null for a missing, non-string or blank value. */
  passOptional(value: unknown, maxCodePoints = MAX_SAFE_TEXT_CODE_POINTS): SafeText | null {
    if (typeof value !== 'string') return null;
    const text = this.pass(value, maxCodePoints);
    return text.length === 0 ? null : text;
  }

  /** Replaces every run of text covered by windows of secrets, and every short secret, by `[REDACTED]`. */
  #redactSecrets(text: string): string {
    let result = text;
    if (this.#windows.size > 0) {
      let out = '';
      let i = 0;
      while (i < result.length) {
        let end = i;
        while (end + SECRET_WINDOW <= result.length && this.#windows.has(result.slice(end, end + SECRET_WINDOW))) end += 1;
        if (end === i) {
          out += result[i];
          i += 1;
        } else {
          out += REDACTED;
          i = end + SECRET_WINDOW - 1;
        }
      }
      result = out;
    }
    for (const secret of this.#shortSecrets) result = result.replaceAll(secret, REDACTED);
    return result;
  }
}

/** Text written in this code base, with no outside input in it: safe by construction. */
export function trusted(text: string): SafeText {
  return text as SafeText;
}
