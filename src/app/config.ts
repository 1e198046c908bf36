import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { BoundedFileError, readBoundedRegularFileSync } from '../adapters/fs/bounded-file.js';
import { proxyAuthorization, proxySecrets, type ProxySettings } from '../adapters/http/proxy-route.js';
import { ENFORCEMENT_MODES, type EnforcementMode } from '../domain/enforcement/usage-quota.js';
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
  /** `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` (either case), read once; proxy credentials are secrets. */
  readonly proxy: ProxySettings;
  /** Null: generate one and keep it in `<cacheDir>/admin-token`. */
  readonly adminToken: string | null;
  readonly adminRefreshMinIntervalMs: number;
  /** `upgrade_url` in 402 bodies (`SOFTCLIENT4ES_UPGRADE_URL`). */
  readonly upgradeUrl: string;
  /** `SOFTCLIENT4ES_ENFORCEMENT_MODE`: `shadow` lets every request through and reports would-be refusals. */
  readonly enforcementMode: EnforcementMode;
  /** The level of the agent's default logger; `info` when `LOG_LEVEL` is unset or not a pino level. */
  readonly logLevel: LogLevel;
  /** Fleet mode (DESIGN §11): null unless `SOFTCLIENT4ES_FLEET_REDIS_URL` is set. */
  readonly fleet: FleetConfig | null;
  /** Send the usage counters with the token request (DESIGN §12; `SOFTCLIENT4ES_TELEMETRY_ENABLED`). */
  readonly telemetryEnabled: boolean;
  /**
   * The files the secrets were read from (`*_FILE` variables, resolved paths), null for a secret
   * given directly or not at all: a reload (SIGHUP) reads them again.
   */
  readonly secretFiles: SecretFiles;
  /** `SOFTCLIENT4ES_INSTANCE_ON_CLONE`: what to do with an instance record made on another host. */
  readonly instanceOnClone: 'keep' | 'renew';
  /** The example host's cap on open connections (`MAX_CONNECTIONS`). */
}

/** Where each secret was read from, when it was read from a file. */
export interface SecretFiles {
  readonly apiKey: string | null;
  readonly staticLicenseJwt: string | null;
  readonly adminToken: string | null;
}

/** Fleet mode: members sharing a Redis and a fleet id form one installation with one refresher. */
export interface FleetConfig {
  /** `redis://` or `rediss://`; its credentials are secrets. */
  readonly redisUrl: URL;
  /** The namespace: keys live under `softclient4es:fleet:<id>:`. */
  readonly id: string;
  /** How long the refresher's lease lasts unrenewed: a dead holder is replaced within it. */
  readonly leaseTtlMs: number;
}

/** Periodic refresh runs when it is enabled and there is an API key to refresh with. */
export function periodicRefreshEnabled(config: Pick<AgentConfig, 'refreshEnabled' | 'apiKey'>): boolean {
  return config.refreshEnabled && config.apiKey !== null;
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
export const DEFAULT_UPGRADE_URL = 'https://portal.softclient4es.com/pricing';

/** Variables whose values are secrets: never echoed, and removed from any text that quotes them. */
export const SECRET_VARIABLES = ['SOFTCLIENT4ES_API_KEY', 'SOFTCLIENT4ES_LICENSE_KEY', 'SOFTCLIENT4ES_ADMIN_TOKEN'] as const;

/** The secrets of a configuration: never to be printed. */
export function configSecrets(config: AgentConfig): string[] {
  const secrets = [config.apiKey, config.adminToken, config.staticLicenseJwt].filter((secret): secret is string => secret !== null);
  const fleet = config.fleet === null ? [] : urlCredentialSecrets(config.fleet.redisUrl);
  return [...secrets, ...proxySecrets(config.proxy), ...fleet];
}

/** The text gate for a configuration: it removes the configuration's secrets from any text. */
export function textGateFor(config: AgentConfig): TextGate {
  return new TextGate(configSecrets(config));
}

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d{1,15}(?:\.\d{1,6})?)(ms|s|m|h|d)$/;
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
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
  SOFTCLIENT4ES_FLEET_LEASE_TTL: { min: 2 * SECOND, max: 5 * MINUTE, words: 'from 2s to 5m' },
} as const satisfies Record<string, DurationRange>;

export type Env = Readonly<Record<string, string | undefined>>;

/** The longest secret a `*_FILE` variable may point at (a static JWT is at most 16 KiB). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * Reads variables from one environment and collects every problem, so that all of them are
 * reported at once (`throwIfInvalid`). Each read returns a usable value: on a problem, the
 * fallback stands in, so that the other variables are still checked. Shared by the agent's
 * `loadConfig` and the example host's `loadHostConfig`.
 */
export class EnvParser {
  readonly problems: ConfigProblem[] = [];
  /** Every variable name read, in order: what this program reads from the environment. */
  readonly names = new Set<string>();
  readonly #secrets: string[];
  #gate: TextGate | null = null;

  constructor(
    private readonly env: Env,
    readonly home: string = homedir(),
  ) {
    this.#secrets = SECRET_VARIABLES.map((name) => env[name] ?? '');
    const redisUrl = env.SOFTCLIENT4ES_FLEET_REDIS_URL?.trim();
    if (redisUrl !== undefined && URL.canParse(redisUrl)) this.#secrets.push(...urlCredentialSecrets(new URL(redisUrl)));
  }

  /** The trimmed value; undefined when unset or blank. */
  read(name: string): string | undefined {
    this.names.add(name);
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** Runs `parser` on the value (or `fallback` text when unset); a refusal is recorded and `otherwise` returned. */
  parse<T>(name: string, parser: (value: string) => T, fallback: string, otherwise: T): T {
    const value = this.read(name) ?? fallback;
    try {
      return parser(value);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      this.#refuse(name, error, value);
      return otherwise;
    }
  }

  duration(name: keyof typeof DURATION_RANGES, fallback: string): number {
    return this.parse(name, (value) => parseDuration(value, DURATION_RANGES[name]), fallback, DURATION_RANGES[name].min);
  }

  url(name: string, fallback: string, form: UrlForm): URL {
    return this.parse(name, (value) => parseUrl(value, form), fallback, new URL(fallback));
  }

  /** An outbound proxy URL from `name`, lower case winning as proxy-from-env reads them; every form set is checked. */
  proxyUrl(name: string): URL | null {
    const [lower, upper] = [name.toLowerCase(), name].map((variable) =>
      this.read(variable) === undefined ? null : this.parse(variable, parseProxyUrl, '', null),
    );
    return lower ?? upper ?? null;
  }

  /**
   * A secret from `name` or from the file named by `name_FILE` (a regular file of at most 64 KiB,
   * read without blocking; its content trimmed). Both set is a problem; a value is never echoed.
   */
  secret(name: (typeof SECRET_VARIABLES)[number]): string | null {
    const direct = this.read(name);
    const file = this.read(`${name}_FILE`);
    if (direct !== undefined && file !== undefined) {
      this.#refuse(name, new InvalidValue(`either ${name} or ${name}_FILE, not both`, false), '');
      return null;
    }
    if (file === undefined) return direct ?? null;
    try {
      const value = readBoundedRegularFileSync(this.secretFile(name) as string, MAX_SECRET_FILE_BYTES).toString('utf8').trim();
      if (value === '') throw new InvalidValue(`a non-empty file (${file} is empty)`, false);
      this.#secrets.push(value);
      return value;
    } catch (error) {
      const reason = error instanceof BoundedFileError ? error.reason : error instanceof InvalidValue ? null : 'cannot be read';
      this.#refuse(`${name}_FILE`, error instanceof InvalidValue ? error : new InvalidValue(`a readable regular file of at most ${MAX_SECRET_FILE_BYTES} bytes (${reason})`), file);
      return null;
    }
  }

  /** The resolved path `name_FILE` names; null when it is unset. */
  secretFile(name: (typeof SECRET_VARIABLES)[number]): string | null {
    return optionalPath(this.read(`${name}_FILE`), this.home);
  }

  /** Throws `ConfigError` with every problem recorded so far; returns when there is none. */
  throwIfInvalid(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  #refuse(name: string, error: InvalidValue, value: string): void {
    const echo = error.echo && !(SECRET_VARIABLES as readonly string[]).some((secret) => name.startsWith(secret));
    this.#gate ??= new TextGate(this.#secrets);
    this.problems.push({ variable: name, expected: error.expected, received: echo ? this.#gate.pass(value, 80) : null });
  }
}

/**
 * Parses and validates the agent's variables (DESIGN §5). Throws `ConfigError` listing every bad
 * variable; never anything else, and never yields a number that is not finite and in range.
 * `HOST`, `PORT` and `MAX_CONNECTIONS` belong to the example host (`loadHostConfig`); `LOG_LEVEL`
 * only picks the level of the agent's own default logger, so a host's own value of it (say
 * `warning`) is not an error here: an unknown level means `info`.
 */
export function loadConfig(env: Env, home: string = homedir()): AgentConfig {
  const vars = new EnvParser(env, home);
  const config = agentConfigFrom(vars);
  vars.throwIfInvalid();
  return config;
}

/** The agent's configuration from `vars`, problems recorded there (see `loadConfig`). */
export function agentConfigFrom(vars: EnvParser): AgentConfig {
  const { home } = vars;
  return {
    staticLicenseJwt: vars.secret('SOFTCLIENT4ES_LICENSE_KEY'),
    apiKey: vars.secret('SOFTCLIENT4ES_API_KEY'),
    backendUrl: vars.url('SOFTCLIENT4ES_LICENSE_URL', DEFAULT_LICENSE_URL, BACKEND_URL),
    issuer: vars.parse('SOFTCLIENT4ES_LICENSE_ISSUER', parseIssuer, DEFAULT_LICENSE_URL, ''),
    publicKeysFile: optionalPath(vars.read('SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS'), home),
    publicKeyJwk: vars.read('SOFTCLIENT4ES_LICENSE_PUBLIC_KEY') ?? null,
    cacheDir: optionalPath(vars.read('SOFTCLIENT4ES_LICENSE_CACHE_DIR'), home) ?? join(home, '.softclient4es'),
    refreshEnabled: vars.parse('SOFTCLIENT4ES_LICENSE_REFRESH_ENABLED', parseBoolean, 'true', true),
    refreshIntervalMs: vars.duration('SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL', '24h'),
    gracePeriodMs: vars.duration('SOFTCLIENT4ES_LICENSE_GRACE_PERIOD', '14d'),
    connectTimeoutMs: vars.duration('SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT', '10s'),
    readTimeoutMs: vars.duration('SOFTCLIENT4ES_LICENSE_READ_TIMEOUT', '10s'),
    proxy: {
      httpsProxy: vars.proxyUrl('HTTPS_PROXY'),
      httpProxy: vars.proxyUrl('HTTP_PROXY'),
      noProxy: vars.read('no_proxy') ?? vars.read('NO_PROXY') ?? null,
    },
    adminToken: vars.secret('SOFTCLIENT4ES_ADMIN_TOKEN'),
    adminRefreshMinIntervalMs: vars.duration('SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL', '10s'),
    upgradeUrl: vars.url('SOFTCLIENT4ES_UPGRADE_URL', DEFAULT_UPGRADE_URL, UPGRADE_URL).href,
    enforcementMode: vars.parse('SOFTCLIENT4ES_ENFORCEMENT_MODE', parseEnforcementMode, 'enforce', 'enforce'),
    logLevel: LOG_LEVELS.find((level) => level === vars.read('LOG_LEVEL')?.toLowerCase()) ?? 'info',
    fleet: fleetConfigFrom(vars),
    telemetryEnabled: vars.parse('SOFTCLIENT4ES_TELEMETRY_ENABLED', parseBoolean, 'true', true),
    secretFiles: {
      apiKey: vars.secretFile('SOFTCLIENT4ES_API_KEY'),
      staticLicenseJwt: vars.secretFile('SOFTCLIENT4ES_LICENSE_KEY'),
      adminToken: vars.secretFile('SOFTCLIENT4ES_ADMIN_TOKEN'),
    },
    instanceOnClone: vars.parse('SOFTCLIENT4ES_INSTANCE_ON_CLONE', parseOnClone, 'keep', 'keep'),
  };
}

function parseOnClone(value: string): 'keep' | 'renew' {
  const lower = value.toLowerCase();
  if (lower === 'keep' || lower === 'renew') return lower;
  throw new InvalidValue('keep or renew');
}

/** Fleet mode is on when a Redis URL is set; the id and lease TTL are read (and checked) either way. */
function fleetConfigFrom(vars: EnvParser): FleetConfig | null {
  const id = vars.parse('SOFTCLIENT4ES_FLEET_ID', parseFleetId, 'default', 'default');
  const leaseTtlMs = vars.duration('SOFTCLIENT4ES_FLEET_LEASE_TTL', '10s');
  if (vars.read('SOFTCLIENT4ES_FLEET_REDIS_URL') === undefined) return null;
  const redisUrl = vars.parse('SOFTCLIENT4ES_FLEET_REDIS_URL', parseRedisUrl, '', null);
  return redisUrl === null ? null : { redisUrl, id, leaseTtlMs };
}

/**
 * The secret forms of a URL's credentials: the password (or a lone user name) as written and
 * decoded, and `user:password` both ways. A user name beside a password is not secret.
 */
export function urlCredentialSecrets(url: URL): string[] {
  if (url.username === '' && url.password === '') return [];
  const decoded = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const secret = url.password === '' ? url.username : url.password;
  return [...new Set([secret, decoded(secret), `${url.username}:${url.password}`, `${decoded(url.username)}:${decoded(url.password)}`])];
}

function parseFleetId(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) throw new InvalidValue('1 to 64 letters, digits, ".", "_" or "-"');
  return value;
}

/**
 * `redis://` or `rediss://` with a host, credentials allowed (they are secrets: a value holding `@`
 * is never quoted back), an optional database number as the path, no query or fragment.
 */
function parseRedisUrl(value: string): URL {
  const url = URL.canParse(value) ? new URL(value) : null;
  const usable =
    url !== null &&
    (url.protocol === 'redis:' || url.protocol === 'rediss:') &&
    url.hostname !== '' &&
    /^\/?\d{0,2}$/.test(url.pathname) &&
    url.search === '' &&
    url.hash === '' &&
    decodableCredentials(url);
  if (!usable) {
    throw new InvalidValue('a redis:// or rediss:// URL (user:password@ allowed, percent-encoded; an optional database number as the path)', !value.includes('@'));
  }
  return url;
}

/** A value a parser refused: what was expected, and whether the value may be quoted back. */
export class InvalidValue extends Error {
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

/** `enforce` or `shadow`, in any case. */
function parseEnforcementMode(value: string): EnforcementMode {
  const mode = ENFORCEMENT_MODES.find((candidate) => candidate === value.toLowerCase());
  if (mode === undefined) throw new InvalidValue(ENFORCEMENT_MODES.join(' or '));
  return mode;
}

function parseBoolean(value: string): boolean {
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw new InvalidValue('true or false');
}

export function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new InvalidValue('a TCP port number from 0 to 65535');
  return port;
}

export function parseLogLevel(value: string): LogLevel {
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

/** Where 402 answers send users to upgrade: a web page. */
const UPGRADE_URL: UrlForm = {
  words: 'an https:// (or http://) URL without credentials',
  accepts: (url) => url.protocol === 'https:' || url.protocol === 'http:',
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

const PROXY_URL_FORM = 'an http:// or https:// proxy URL (user:password@ allowed, percent-encoded) without path, query or fragment';

/**
 * An outbound proxy: `http://` or `https://`, a host, maybe a port and credentials that decode.
 * Never echoed when it may hold credentials (any `@`, with or without a scheme).
 */
function parseProxyUrl(value: string): URL {
  const url = URL.canParse(value) ? new URL(value) : null;
  const usable =
    url !== null &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    (url.pathname === '' || url.pathname === '/') &&
    url.search === '' &&
    url.hash === '' &&
    decodableCredentials(url);
  if (!usable) throw new InvalidValue(PROXY_URL_FORM, !value.includes('@'));
  return url;
}

function decodableCredentials(url: URL): boolean {
  try {
    proxyAuthorization(url);
    return true;
  } catch {
    return false;
  }
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
export function parseCount(value: string, max: number): number {
  const count = /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN;
  if (!(count >= 1 && count <= max)) throw new InvalidValue(`a whole number from 1 to ${max}`);
  return count;
}
