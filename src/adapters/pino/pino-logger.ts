import { pino, type DestinationStream, type Level, type Logger as Pino } from 'pino';
import { REDACTED, type TextGate } from '../../domain/model/safe-text.js';
import type { LogFields, Logger } from '../../ports/logger.port.js';

export interface PinoLoggerOptions {
  readonly level: Level | 'silent';
  /**
   * The text gate holding the values that must never be printed (API key, admin token, static
   * JWT): every finished line is scrubbed by it, whatever path produced it (fields, error causes,
   * stacks), as a last line of defence behind the gate every message passes first.
   */
  readonly gate: TextGate;
  /** Where lines go; stdout by default. */
  readonly destination?: DestinationStream;
}

/** JSON lines through pino; field names that usually hold secrets are redacted as well. */
export class PinoLogger implements Logger {
  readonly pino: Pino;
  readonly #gate: TextGate;

  constructor(options: PinoLoggerOptions) {
    const gate = options.gate;
    this.#gate = gate;
    const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
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
