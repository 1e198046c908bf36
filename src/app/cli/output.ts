import type { Logger } from '../../ports/logger.port.js';
import type { SafeText, TextGate } from '../../domain/model/safe-text.js';

/** One line of a table: a label and its value, which may span several lines. */
export type Row = readonly [label: string, value: string];

/** Label and value columns; continuation lines of a value are indented under it. */
export function renderRows(rows: readonly Row[]): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length)) + 2;
  return rows
    .map(([label, value]) => {
      const [first = '', ...rest] = value.split('\n');
      return [`${label.padEnd(width)}${first}`.trimEnd(), ...rest.map((line) => `${' '.repeat(width)}${line}`.trimEnd())].join('\n');
    })
    .join('\n')
    .concat('\n');
}

/** Aligned columns for a value of several lines (quotas, resolution attempts). */
export function columns(lines: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const cells of lines) cells.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return lines.map((cells) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 2))).join('').trimEnd()).join('\n');
}

/**
 * A JSON document on stdout, pretty-printed (control characters escaped by JSON), with the last
 * line of defence of the text gate: no configured secret, JWT-shaped or bearer text.
 */
export function writeJson(value: unknown, gate: TextGate): void {
  process.stdout.write(`${gate.scrubJsonLine(JSON.stringify(value, null, 2))}\n`);
}

export function write(text: string): void {
  process.stdout.write(text);
}

/** `warning: <message>` on stderr for each message. */
export function writeWarnings(warnings: readonly SafeText[]): void {
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
}

/**
 * The logger the shared code (trusted keys, cache directory, clock) reports to in the CLI: WARN and
 * ERROR messages are kept, through the text gate, for the command to print; nothing else is.
 */
export class CollectingLogger implements Logger {
  readonly warnings: SafeText[] = [];

  constructor(private readonly gate: TextGate) {}

  debug(): void {}

  info(): void {}

  warn(message: string): void {
    this.warnings.push(this.gate.pass(message, 1000));
  }

  error(message: string): void {
    this.warnings.push(this.gate.pass(message, 1000));
  }
}
