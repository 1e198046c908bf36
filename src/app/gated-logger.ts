import type { TextGate } from '../domain/model/safe-text.js';
import type { LogFields, Logger } from '../ports/logger.port.js';

/** Log messages may be longer than quoted text: our own words around a quoted reason. */
const MAX_MESSAGE_CODE_POINTS = 2_000;

/**
 * Puts every log line through the text gate, whatever logger the host gave us: the message, string
 * field values (nested), and errors (message, code, stack, cause) — so that no secret, control or
 * bidi character reaches a log from any path.
 */
export class GatedLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly gate: TextGate,
  ) {}

  debug(message: string, fields?: LogFields): void {
    this.inner.debug(this.gate.pass(message, MAX_MESSAGE_CODE_POINTS), this.#fields(fields));
  }

  info(message: string, fields?: LogFields): void {
    this.inner.info(this.gate.pass(message, MAX_MESSAGE_CODE_POINTS), this.#fields(fields));
  }

  warn(message: string, fields?: LogFields): void {
    this.inner.warn(this.gate.pass(message, MAX_MESSAGE_CODE_POINTS), this.#fields(fields));
  }

  error(message: string, fields?: LogFields): void {
    this.inner.error(this.gate.pass(message, MAX_MESSAGE_CODE_POINTS), this.#fields(fields));
  }

  #fields(fields: LogFields | undefined): LogFields | undefined {
    return fields === undefined ? undefined : (this.#value(fields, 0) as LogFields);
  }

  #value(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.gate.pass(value, MAX_MESSAGE_CODE_POINTS);
    if (typeof value !== 'object' || value === null || value instanceof Date) return value;
    if (depth > 4) return '[nested too deep]';
    if (value instanceof Error) {
      const { code } = value as { code?: unknown };
      return {
        type: value.name,
        message: this.#value(value.message, depth + 1),
        ...(code === undefined ? {} : { code: this.#value(String(code), depth + 1) }),
        stack: this.#value(value.stack ?? '', depth + 1),
        ...(value.cause === undefined ? {} : { cause: this.#value(value.cause, depth + 1) }),
      };
    }
    if (Array.isArray(value)) return value.map((item) => this.#value(item, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.gate.pass(key, 100), this.#value(item, depth + 1)]));
  }
}
