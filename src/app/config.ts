import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { TextGate, type SafeText } from '../domain/model/safe-text.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The agent's configuration, parsed once from the environment (DESIGN §5). */
export interface AgentConfig {
  /** A signed license JWT (step 1 of resolution). */
  readonly staticLicenseJwt: string | null;
  /** The API key as given; its form is checked at resolution, where a bad one is logged, not fatal. */
  readonly apiKey: string | null;
  readonly backendUrl: URL;
  readonly issuer: string;
  readonly publicKeysFile: string | null;
  readonly publicKeyJwk: string | null;
  readonly cacheDir: string;
  readonly refreshEnabled: boolean;
  readonly refreshIntervalMs: number;
  readonly gracePeriodMs: number;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** Null: generate one and keep it in `<cacheDir>/admin-token`. */
  readonly adminToken: string | null;
  readonly adminRefreshMinIntervalMs: number;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  /** The example host's cap on open connections (`MAX_CONNECTIONS`). */
  readonly maxConnections: number;
}

/**
 * Configuration that cannot be used: start-up stops with one line per bad variable, all of them at
 * once (DESIGN §5). A value is quoted only when it is neither a secret nor a URL with credentials,
 * and only through the text gate.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(describeProblem).join('\n'));
    this.name = 'ConfigError';
  }

  /** The first bad variable (there is always at least one). */
  get variable(): string {
    return this.problems[0]?.variable ?? '';
  }
}

export interface ConfigProblem {
  readonly variable: string;
  readonly expected: string;
  /** The value as given, already through the text gate; null when it must not be echoed. */
  readonly received: SafeText | null;
}

function describeProblem({ variable, expected, received }: ConfigProblem): string {
  return `Invalid ${variable}: expected ${expected}${received === null ? '' : ` (got "${received}")`}`;
}

export const DEFAULT_LICENSE_URL = 'https://license.softclient4es.com';

/** Variables whose values are secrets: never echoed, and removed from any text that quotes them. */
export const SECRET_VARIABLES = ['SOFTCLIENT4ES_API_KEY', 'SOFTCLIENT4ES_LICENSE_KEY', 'SOFTCLIENT4ES_ADMIN_TOKEN'] as const;

/** The secrets of a configuration: never to be printed. */
export function configSecrets(config: AgentConfig): string[] {
  return [config.apiKey, config.adminToken, config.staticLicenseJwt].filter((secret): secret is string => secret !== null);
}

/** The text gate for a configuration: it removes the configuration's secrets from any text. */
export function textGateFor(config: AgentConfig): TextGate {
  return new TextGate(configSecrets(config));
}

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d{1,15}(?:\.\d{1,6})?)(ms|s|m|h|d)$/;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration's documented range (DESIGN §5, amended 2026-11-30), in milliseconds, with its words. */
interface DurationRange {
  readonly min: number;
  readonly max: number;
  readonly words: string;
}

export const DURATION_RANGES = {
  SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT: { min: 100, max: 5 * MINUTE, words: 'from 100ms to 5m' },
  SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: { min: 100, max: 5 * MINUTE, words: 'from 100ms to 5m' },
  SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: { min: SECOND, max: 30 * DAY, words: 'from 1s to 30d' },
  SOFTCLIENT4ES_LICENSE_GRACE_PERIOD: { min: 0, max: 365 * DAY, words: 'from 0s to 365d' },
  SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: { min: 0, max: HOUR, words: 'from 0s to 1h' },
} as const satisfies Record<string, DurationRange>;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses and validates the environment (DESIGN §5). Throws `ConfigError` listing every bad
 * variable; never anything else, and never yields a number that is not finite and in range.
 */
export function loadConfig(env: Env, home: string = homedir()): AgentConfig {
  const problems: ConfigProblem[] = [];
  const gate = new TextGate(SECRET_VARIABLES.map((name) => env[name]));
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  /** Runs one parser; a bad value is recorded and `fallback` stands in so the others are still checked. */
  const parse = <T>(name: string, parser: (value: string) => T, value: string, fallback: T): T => {
    try {
      return parser(value);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      const echo = error.echo && !(SECRET_VARIABLES as readonly string[]).includes(name);
      problems.push({ variable: name, expected: error.expected, received: echo ? gate.pass(value, 80) : null });
      return fallback;
    }
  };
  const duration = (name: keyof typeof DURATION_RANGES, fallback: string): number =>
    parse(name, (value) => parseDuration(value, DURATION_RANGES[name]), read(name) ?? fallback, 0);
  const url = (name: string, fallback: string, form: UrlForm): URL =>
    parse(name, (value) => parseUrl(value, form), read(name) ?? fallback, new URL(fallback));

  const config: AgentConfig = {
    staticLicenseJwt: read('SOFTCLIENT4ES_LICENSE_KEY') ?? null,
    apiKey: read('SOFTCLIENT4ES_API_KEY') ?? null,
    backendUrl: url('SOFTCLIENT4ES_LICENSE_URL', DEFAULT_LICENSE_URL, BACKEND_URL),
    issuer: parse('SOFTCLIENT4ES_LICENSE_ISSUER', parseIssuer, read('SOFTCLIENT4ES_LICENSE_ISSUER') ?? DEFAULT_LICENSE_URL, ''),
    publicKeysFile: optionalPath(read('SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS'), home),
    publicKeyJwk: read('SOFTCLIENT4ES_LICENSE_PUBLIC_KEY') ?? null,
    cacheDir: optionalPath(read('SOFTCLIENT4ES_LICENSE_CACHE_DIR'), home) ?? join(home, '.softclient4es'),
    refreshEnabled: parse('SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED', parseBoolean, read('SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED') ?? 'true', true),
    refreshIntervalMs: duration('SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '24h'),
    gracePeriodMs: duration('SOFTCLIENT4ES_LICENSE_GRACE_PERIOD', '14d'),
    connectTimeoutMs: duration('SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT', '10s'),
    readTimeoutMs: duration('SOFTCLIENT4ES_LICENSE_READ_TIMEOUT', '10s'),
    adminToken: read('SOFTCLIENT4ES_ADMIN_TOKEN') ?? null,
    adminRefreshMinIntervalMs: duration('SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL', '10s'),
    host: read('HOST') ?? '127.0.0.1',
    port: parse('PORT', parsePort, read('PORT') ?? '8080', 0),
    logLevel: parse('LOG_LEVEL', parseLogLevel, read('LOG_LEVEL') ?? 'info', 'info'),
    maxConnections: parse('MAX_CONNECTIONS', (value) => parseCount(value, 1_000_000), read('MAX_CONNECTIONS') ?? '1024', 1),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** A value a parser refused: what was expected, and whether the value may be quoted back. */
class InvalidValue extends Error {
  constructor(
    readonly expected: string,
    readonly echo = true,
  ) {
    super(expected);
  }
}

const DURATION_FORM = 'a duration: a number with a unit ms, s, m, h or d (for example 30s, 24h, 14d)';

/** `30s`, `15m`, `24h`, `14d`, `500ms` → whole milliseconds within `range`. */
export function parseDuration(value: string, range: DurationRange): number {
  const match = DURATION_PATTERN.exec(value);
  const ms = match === null ? Number.NaN : Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS]);
  if (!(ms >= range.min && ms <= range.max)) throw new InvalidValue(`${DURATION_FORM}, ${range.words}`);
  return ms;
}

function parseBoolean(value: string): boolean {
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw new InvalidValue('true or false');
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new InvalidValue('a TCP port number from 0 to 65535');
  return port;
}

function parseLogLevel(value: string): LogLevel {
  const level = LOG_LEVELS.find((candidate) => candidate === value.toLowerCase());
  if (level === undefined) throw new InvalidValue(`one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** What a URL variable must look like: its words, and the test beyond "parses, has no credentials". */
interface UrlForm {
  readonly words: string;
  readonly accepts: (url: URL) => boolean;
}

/** https only, except plain http to a loopback host (a local test or sidecar backend). */
const BACKEND_URL: UrlForm = {
  words: 'an https:// URL (http:// only for localhost, 127.0.0.0/8 or [::1]) without credentials, query or fragment',
  accepts: (url) =>
    (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.hostname))) && url.search === '' && url.hash === '',
};

/** The issuer names the vendor by a URL (RFC 7519 §4.1.1 StringOrURI). */
const ISSUER_URL: UrlForm = {
  words: 'an http(s):// URL without credentials',
  accepts: (url) => url.protocol === 'https:' || url.protocol === 'http:',
};

/** Compared with `iss` as written; checked as a URL only to catch a typo at start-up. */
function parseIssuer(value: string): string {
  parseUrl(value, ISSUER_URL);
  return value;
}

/** A URL of `form`. A value that holds credentials (`user:pass@`) is never echoed, parsed or not. */
function parseUrl(value: string, form: UrlForm): URL {
  const holdsCredentials = /^[^/?#]*\/\/[^/?#]*@/.test(value);
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (url === null || url.username !== '' || url.password !== '' || !form.accepts(url)) {
    const credentials = holdsCredentials || (url !== null && (url.username !== '' || url.password !== ''));
    throw new InvalidValue(form.words, !credentials);
  }
  return url;
}

function optionalPath(value: string | undefined, home: string): string | null {
  if (value === undefined) return null;
  const expanded = value === '~' ? home : value.startsWith('~/') ? join(home, value.slice(2)) : value;
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

/** A whole number from 1 to `max`. */
function parseCount(value: string, max: number): number {
  const count = /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN;
  if (!(count >= 1 && count <= max)) throw new InvalidValue(`a whole number from 1 to ${max}`);
  return count;
}
