import { pino, type DestinationStream, type Level, type Logger as Pino } from 'pino';
import type { LogFields, Logger } from '../../ports/logger.port.js';
import { LogDestination } from './log-destination.js';

export interface PinoLoggerOptions {
  readonly level: Level | 'silent';
  /** Values that must never be printed (API key, admin token, static JWT). */
  readonly secrets: readonly string[];
  /** Where lines go; by default stdout, asynchronously (`LogDestination`). */
  readonly destination?: DestinationStream;
}

const REDACTED = '[REDACTED]';
// Three base64url segments starting like a JSON header: a compact JWS, whoever logged it.
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
const SHORTEST_SCRUBBED_SECRET = 4;

/**
 * The last line of defence for secrets: every finished line is scrubbed of the known secrets (raw
 * and JSON-escaped) and of anything shaped like a JWT, whatever path produced it (messages, fields,
 * error causes, stacks). Lines are rare (never per request), so this is cheap.
 */
class SecretScrubber {
  #needles: string[] = [];

  constructor(secrets: readonly string[]) {
    secrets.forEach((secret) => this.add(secret));
  }

  add(secret: string): void {
    if (secret.length < SHORTEST_SCRUBBED_SECRET) return;
    const forms = [secret, JSON.stringify(secret).slice(1, -1)];
    this.#needles = [...new Set([...this.#needles, ...forms])].sort((a, b) => b.length - a.length);
  }

  scrub(line: string): string {
    let scrubbed = line.replace(JWT_PATTERN, REDACTED);
    for (const needle of this.#needles) scrubbed = scrubbed.replaceAll(needle, REDACTED);
    return scrubbed;
  }
}

/** JSON lines through pino; field names that usually hold secrets are redacted as well. */
export class PinoLogger implements Logger {
  readonly pino: Pino;
  readonly #scrubber: SecretScrubber;
  readonly #destination: DestinationStream;

  constructor(options: PinoLoggerOptions) {
    const scrubber = new SecretScrubber(options.secrets);
    this.#scrubber = scrubber;
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
      { write: (line: string) => destination.write(scrubber.scrub(line)) },
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
    this.#scrubber.add(secret);
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
