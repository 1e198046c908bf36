import type { LogFields, Logger } from '../../src/ports/logger.port.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  readonly level: Level;
  readonly message: string;
  readonly fields: LogFields;
}

/** Keeps every log call so tests can assert on messages and levels. */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];

  debug(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'debug', message, fields });
  }

  info(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'info', message, fields });
  }

  warn(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'warn', message, fields });
  }

  error(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'error', message, fields });
  }

  /** Messages logged at `level`, in order. */
  at(level: Level): string[] {
    return this.entries.filter((entry) => entry.level === level).map((entry) => entry.message);
  }

  messages(): string[] {
    return this.entries.map((entry) => entry.message);
  }

  clear(): void {
    this.entries.length = 0;
  }
}
