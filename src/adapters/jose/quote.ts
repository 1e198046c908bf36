/**
 * Quotes an untrusted value (a header, claim or key-file member) for an error or log message:
 * JSON-escaped, so printable on one line, and at most 64 characters of it.
 */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
