import { pino, type DestinationStream, type Level, type Logger as Pino } from 'pino';
import { REDACTED, type TextGate } from '../../domain/model/safe-text.js';
import type { LogFields, Logger } from '../../ports/logger.port.js';
import { LogDestination } from './log-destination.js';

export interface PinoLoggerOptions {
  readonly level: Level | 'silent';
  /**
   * The text gate holding the values that must never be printed (API key, admin token, static
   * JWT): every finished line is scrubbed by it, whatever path produced it (fields, error causes,
   * stacks), as a last line of defence behind the gate every message passes first.
   */
  readonly gate: TextGate;
  /** Where lines go; by default stdout, asynchronously (`LogDestination`). */
  readonly destination?: DestinationStream;
}

/** JSON lines through pino; field names that usually hold secrets are redacted as well. */
export class PinoLogger implements Logger {
  readonly pino: Pino;
  readonly #gate: TextGate;
  readonly #destination: DestinationStream;

  constructor(options: PinoLoggerOptions) {
    const gate = options.gate;
    this.#gate = gate;
    const destination = options.destination ?? new LogDestination();
    this.#destination = destination;
    this.pino = pino(
      {
        level: options.level,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label, number) => ({ level: number, severity: label }) },
        redact: {
          paths: ['apiKey', 'api_key', 'adminToken', 'admin_token', 'jwt', 'authorization', '*.authorization'],
          censor: REDACTED,
        },
      },
      { write: (line: string) => destination.write(gate.scrubJsonLine(line)) },
    );
  }

  /**
   * Resolves once the lines logged so far are written out (call before a planned exit), or after at
   * most `timeoutMs` (default 1 s), or at once when stdout has stalled. Never rejects.
   */
  async flush(timeoutMs?: number): Promise<void> {
    if (this.#destination instanceof LogDestination) await this.#destination.flush(timeoutMs);
  }

  /** Lines dropped rather than wait for a stalled stdout (0 with a destination of the caller's). */
  get droppedLines(): number {
    return this.#destination instanceof LogDestination ? this.#destination.droppedLines : 0;
  }

  /** Adds a secret learnt after start-up (a generated admin token) to those never printed. */
  addSecret(secret: string): void {
    this.#gate.addSecret(secret);
  }

  debug(message: string, fields?: LogFields): void {
    this.pino.debug(fields ?? {}, message);
  }

  info(message: string, fields?: LogFields): void {
    this.pino.info(fields ?? {}, message);
  }

  warn(message: string, fields?: LogFields): void {
    this.pino.warn(fields ?? {}, message);
  }

  error(message: string, fields?: LogFields): void {
    this.pino.error(fields ?? {}, message);
  }
}
