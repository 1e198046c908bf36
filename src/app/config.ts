import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

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

/** A configuration value that cannot be used; start-up stops with this one line. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    received?: string,
  ) {
    super(`Invalid ${variable}: expected ${expected}${received === undefined ? '' : ` (got ${JSON.stringify(received.slice(0, 80))})`}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_LICENSE_URL = 'https://license.softclient4es.com';

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const DURATION_FORM = 'a duration: a number with a unit ms, s, m, h or d (for example 30s, 24h, 14d)';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Env = Readonly<Record<string, string | undefined>>;

/** Parses and validates the environment; throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env, home: string = homedir()): AgentConfig {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const duration = (name: string, fallback: string, { allowZero = false } = {}): number =>
    parseDuration(name, read(name) ?? fallback, allowZero);

  return {
    staticLicenseJwt: read('SOFTCLIENT4ES_LICENSE_KEY') ?? null,
    apiKey: read('SOFTCLIENT4ES_API_KEY') ?? null,
    backendUrl: parseBackendUrl('SOFTCLIENT4ES_LICENSE_URL', read('SOFTCLIENT4ES_LICENSE_URL') ?? DEFAULT_LICENSE_URL),
    issuer: read('SOFTCLIENT4ES_LICENSE_ISSUER') ?? DEFAULT_LICENSE_URL,
    publicKeysFile: optionalPath(read('SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS'), home),
    cacheDir: optionalPath(read('SOFTCLIENT4ES_LICENSE_CACHE_DIR'), home) ?? join(home, '.softclient4es'),
    refreshEnabled: parseBoolean('SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED', read('SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED') ?? 'true'),
    refreshIntervalMs: atLeastOneSecond('SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', duration('SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '24h')),
    gracePeriodMs: duration('SOFTCLIENT4ES_LICENSE_GRACE_PERIOD', '14d', { allowZero: true }),
    connectTimeoutMs: duration('SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT', '10s'),
    readTimeoutMs: duration('SOFTCLIENT4ES_LICENSE_READ_TIMEOUT', '10s'),
    adminToken: read('SOFTCLIENT4ES_ADMIN_TOKEN') ?? null,
    adminRefreshMinIntervalMs: duration('SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL', '10s', { allowZero: true }),
    host: read('HOST') ?? '127.0.0.1',
    port: parsePort('PORT', read('PORT') ?? '8080'),
    logLevel: parseLogLevel('LOG_LEVEL', read('LOG_LEVEL') ?? 'info'),
    maxConnections: parseCount('MAX_CONNECTIONS', read('MAX_CONNECTIONS') ?? '1024', 1_000_000),
  };
}

/** `30s`, `15m`, `24h`, `14d`, `500ms` → milliseconds. */
export function parseDuration(variable: string, value: string, allowZero = false): number {
  const match = DURATION_PATTERN.exec(value);
  const ms = match === null ? Number.NaN : Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
  if (!Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER || (!allowZero && ms < 1)) {
    throw new ConfigError(variable, allowZero ? DURATION_FORM : `${DURATION_FORM}, greater than zero`, value);
  }
  return Math.round(ms);
}

/** A refresh interval under a second would hammer the backend (backoff is capped at the interval). */
function atLeastOneSecond(variable: string, ms: number): number {
  if (ms < 1000) throw new ConfigError(variable, `${DURATION_FORM}, at least 1s`, `${ms}ms`);
  return ms;
}

function parseBoolean(variable: string, value: string): boolean {
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw new ConfigError(variable, 'true or false', value);
}

function parsePort(variable: string, value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new ConfigError(variable, 'a TCP port number from 0 to 65535', value);
  return port;
}

function parseLogLevel(variable: string, value: string): LogLevel {
  const level = LOG_LEVELS.find((candidate) => candidate === value.toLowerCase());
  if (level === undefined) throw new ConfigError(variable, `one of ${LOG_LEVELS.join(', ')}`, value);
  return level;
}

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** https only, except plain http to a loopback host (a local test or sidecar backend). */
function parseBackendUrl(variable: string, value: string): URL {
  const expected = 'an https:// URL (http:// only for localhost, 127.0.0.0/8 or [::1]) without credentials, query or fragment';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, expected, value);
  }
  const secureEnough = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.hostname));
  if (!secureEnough || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(variable, expected, url.username !== '' || url.password !== '' ? undefined : value);
  }
  return url;
}

function optionalPath(value: string | undefined, home: string): string | null {
  if (value === undefined) return null;
  const expanded = value === '~' ? home : value.startsWith('~/') ? join(home, value.slice(2)) : value;
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

/** A whole number from 1 to `max`. */
function parseCount(variable: string, value: string, max: number): number {
  const count = /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN;
  if (!(count >= 1 && count <= max)) throw new ConfigError(variable, `a whole number from 1 to ${max}`, value);
  return count;
}
