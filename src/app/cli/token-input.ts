import { promises as fs } from 'node:fs';
import { BoundedFileError, readBoundedRegularFile } from '../../adapters/fs/bounded-file.js';
import { CliError, EXIT } from './usage.js';

/** The most `verify` reads from a file or standard input (a token is at most 16 KiB). */
export const MAX_INPUT_BYTES = 64 * 1024;

export interface TokenInput {
  /** The token text, trimmed as the agent trims `SOFTCLIENT4ES_LICENSE_KEY`. */
  readonly jwt: string;
  /** Where it came from, for messages: a path, `standard input` or `the command line`. */
  readonly origin: string;
}

/**
 * The token `verify` judges: `-` reads standard input, an existing path reads that file (the
 * bounded reader: regular files of at most 64 KiB), an operand that looks like a token (`eyJ…`, or
 * three dot-separated parts) is the token itself; anything else is a file that cannot be read. A file or
 * input holding the agent's `license-cache.json` document (`{"jwt": …}`) gives its `jwt`.
 *
 * @throws CliError `USAGE` when the input cannot be read, is too large or is empty.
 */
export async function readTokenInput(operand: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<TokenInput> {
  if (operand === '-') return tokenOf(await readStream(stdin, MAX_INPUT_BYTES), 'standard input');
  if (!(await exists(operand))) {
    if (operand.trim().startsWith('eyJ') || operand.split('.').length === 3) return tokenOf(operand, 'the command line');
  }
  let bytes: Buffer;
  try {
    bytes = await readBoundedRegularFile(operand, MAX_INPUT_BYTES);
  } catch (error) {
    if (error instanceof BoundedFileError) throw new CliError(EXIT.USAGE, `Cannot read the license token: ${error.message}`);
    throw error;
  }
  return tokenOf(bytes.toString('utf8'), operand);
}

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

function tokenOf(text: string, origin: string): TokenInput {
  const trimmed = text.trim();
  const jwt = trimmed.startsWith('{') ? (cachedJwt(trimmed) ?? trimmed) : trimmed;
  if (jwt === '') throw new CliError(EXIT.USAGE, `No license token in ${origin}`);
  return { jwt, origin };
}

/** The `jwt` of a `license-cache.json` document; null for anything else. */
function cachedJwt(text: string): string | null {
  try {
    const document = JSON.parse(text) as { jwt?: unknown } | null;
    return typeof document?.jwt === 'string' ? document.jwt.trim() : null;
  } catch {
    return null;
  }
}

async function readStream(stream: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > maxBytes) throw new CliError(EXIT.USAGE, `Cannot read the license token: standard input is larger than ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
