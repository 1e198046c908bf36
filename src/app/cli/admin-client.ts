import type { HostConfig } from '../host-config.js';
import { ADMIN_TOKEN_FILE } from '../../adapters/fs/admin-token-file.js';
import { BoundedFileError, readBoundedRegularFile } from '../../adapters/fs/bounded-file.js';
import { StateDirectory } from '../../adapters/fs/state-directory.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import type { Logger } from '../../ports/logger.port.js';
import { parseDuration, type AgentConfig } from '../config.js';
import { CliError, EXIT, UsageError } from './usage.js';

/** How long `status` and `refresh` wait for the agent by default: a refresh may wait on the backend's own timeouts. */
export const DEFAULT_TIMEOUT = '30s';
const TIMEOUT_RANGE = { min: 100, max: 5 * 60_000, words: 'from 100ms to 5m' };
/** The largest answer read from the agent. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const MAX_TOKEN_FILE_BYTES = 4096;

export interface AgentOptions {
  readonly url?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly timeout?: string | undefined;
}

/** A running agent's admin API, and how to authenticate to it. */
export interface AdminTarget {
  readonly base: URL;
  readonly token: string;
  /** Where the token came from, for messages (never the token). */
  readonly tokenSource: string;
  readonly timeoutMs: number;
}

/** What the agent answered. `json` is undefined when the body is not JSON. */
export interface AgentAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: unknown;
}

/**
 * The agent's address (`--url`, else `HOST`/`PORT` as the example host listens, else
 * http://127.0.0.1:8080), the admin token (`--token-file`, else `SOFTCLIENT4ES_ADMIN_TOKEN`, else
 * `<cache dir>/admin-token`, read without creating anything) and the timeout. The token becomes a
 * secret of `gate`.
 */
export async function adminTarget(
  options: AgentOptions,
  config: AgentConfig,
  host: Pick<HostConfig, 'host' | 'port'>,
  gate: TextGate,
  logger: Logger,
  command: string,
): Promise<AdminTarget> {
  const base = agentUrl(options.url, host, command);
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(options.timeout ?? DEFAULT_TIMEOUT, TIMEOUT_RANGE);
  } catch (error) {
    throw new UsageError(`Invalid --timeout: expected ${error instanceof Error ? error.message : 'a duration'}`, command);
  }
  const { token, source } = await adminToken(options.tokenFile, config, logger);
  gate.addSecret(token);
  if (base.protocol === 'http:' && !isLoopback(base.hostname)) {
    logger.warn(`The admin token is sent in clear over http:// to ${base.host}; prefer https:// or a loopback address`);
  }
  return { base, token, tokenSource: source, timeoutMs };
}

function agentUrl(option: string | undefined, listen: Pick<HostConfig, 'host' | 'port'>, command: string): URL {
  if (option === undefined) {
    const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
    return new URL(`http://${host.includes(':') ? `[${host}]` : host}:${listen.port}/`);
  }
  let url: URL;
  try {
    url = new URL(option);
  } catch {
    throw new UsageError('Invalid --url: expected an http:// or https:// URL such as http://127.0.0.1:8080', command);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UsageError('Invalid --url: expected an http:// or https:// URL without credentials, query or fragment', command);
  }
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url;
}

const isLoopback = (hostname: string): boolean => /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(hostname);

async function adminToken(tokenFile: string | undefined, config: AgentConfig, logger: Logger): Promise<{ token: string; source: string }> {
  if (tokenFile !== undefined) {
    let bytes: Buffer;
    try {
      bytes = await readBoundedRegularFile(tokenFile, MAX_TOKEN_FILE_BYTES);
    } catch (error) {
      if (error instanceof BoundedFileError) throw new CliError(EXIT.USAGE, `Cannot read the admin token: --token-file ${error.message}`);
      throw error;
    }
    return nonEmpty(bytes.toString('utf8').trim(), `--token-file ${tokenFile}`);
  }
  if (config.adminToken !== null) return { token: config.adminToken, source: 'SOFTCLIENT4ES_ADMIN_TOKEN' };
  const directory = new StateDirectory(config.cacheDir, logger);
  const path = directory.pathOf(ADMIN_TOKEN_FILE);
  let bytes: Buffer | null;
  try {
    bytes = await directory.read(ADMIN_TOKEN_FILE, MAX_TOKEN_FILE_BYTES);
  } catch (error) {
    throw new CliError(EXIT.USAGE, `Cannot read the admin token from ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (bytes === null) {
    throw new CliError(
      EXIT.USAGE,
      `No admin token: set SOFTCLIENT4ES_ADMIN_TOKEN or pass --token-file (${path}, where the agent keeps a generated one, does not exist)`,
    );
  }
  return nonEmpty(bytes.toString('utf8').trim(), path);
}

function nonEmpty(token: string, source: string): { token: string; source: string } {
  if (token === '') throw new CliError(EXIT.USAGE, `No admin token: ${source} is empty`);
  return { token, source };
}

/**
 * One admin call: `method` on `path` under the agent's URL with the bearer token, no redirect
 * followed (the token stays with this agent), the whole exchange bounded by the timeout.
 *
 * @throws CliError `UNREACHABLE` when there is no answer; `USAGE` when the agent refuses the token (401).
 */
export async function callAgent(target: AdminTarget, method: 'GET' | 'POST', path: string): Promise<AgentAnswer> {
  const url = new URL(path, target.base);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${target.token}`, Accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    text = await boundedText(response);
  } catch (error) {
    throw new CliError(EXIT.UNREACHABLE, `Cannot reach the agent at ${url.origin}: ${networkReason(error, target.timeoutMs)}`);
  }
  if (response.status === 401) {
    throw new CliError(EXIT.USAGE, `The agent at ${url.origin} refused the admin token from ${target.tokenSource} (HTTP 401)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json };
}

async function boundedText(response: Response): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body !== null) {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > MAX_ANSWER_BYTES) throw new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
      chunks.push(Buffer.from(chunk));
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Why fetch failed, in words: `ECONNREFUSED`, `no answer within 30s`, … */
function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${formatMs(timeoutMs)}`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** `<error>: <message>` of an agent's JSON error body, or `HTTP <status>`. */
export function describeAnswer(answer: AgentAnswer, gate: TextGate): string {
  const body = answer.json as { error?: unknown; message?: unknown } | undefined;
  const parts = [`HTTP ${answer.status}`];
  if (typeof body?.error === 'string') parts.push(gate.pass(body.error, 64));
  if (typeof body?.message === 'string') parts.push(gate.pass(body.message));
  if (answer.json === undefined) parts.push('not JSON');
  return parts.join(': ');
}
