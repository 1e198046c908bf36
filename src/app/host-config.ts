import { DEFAULT_SERVER_LIMITS } from '../adapters/http-server/bounded-server.js';
import { agentConfigFrom, EnvParser, parseCount, parseDuration, parseLogLevel, parsePort, type AgentConfig, type Env, type LogLevel } from './config.js';

/** The example host's own settings (`npm start`), beside the agent's. */
export interface HostConfig {
  readonly host: string;
  readonly port: number;
  /** Validated strictly here, unlike the agent's lenient reading of the same variable. */
  readonly logLevel: LogLevel;
  /** `MAX_CONNECTIONS`: open connections the server accepts. */
  readonly maxConnections: number;
  /** `SOFTCLIENT4ES_SHUTDOWN_DRAIN`: how long `/readyz` answers 503 before the listener closes, in ms. */
  readonly shutdownDrainMs: number;
}

/** `SOFTCLIENT4ES_SHUTDOWN_DRAIN`'s range (DESIGN §5, amended 2026-11-30). */
const SHUTDOWN_DRAIN_RANGE = { min: 0, max: 5 * 60_000, words: 'from 0s to 5m' };

/**
 * The example host's configuration and the agent's, from one environment: every bad variable of
 * both is reported at once (`ConfigError`).
 */
export function loadHostConfig(env: Env, home?: string): { readonly agent: AgentConfig; readonly host: HostConfig } {
  const vars = new EnvParser(env, home);
  const config = hostConfigFrom(vars);
  vars.throwIfInvalid();
  return config;
}

/** Every environment variable the example host and its agent read (for deployment checks and docs). */
export function hostVariables(): ReadonlySet<string> {
  const vars = new EnvParser({});
  hostConfigFrom(vars);
  return vars.names;
}

function hostConfigFrom(vars: EnvParser): { readonly agent: AgentConfig; readonly host: HostConfig } {
  const agent = agentConfigFrom(vars);
  const host: HostConfig = {
    host: vars.read('HOST') ?? '127.0.0.1',
    port: vars.parse('PORT', parsePort, '8080', 0),
    logLevel: vars.parse('LOG_LEVEL', parseLogLevel, 'info', 'info'),
    maxConnections: vars.parse('MAX_CONNECTIONS', (value) => parseCount(value, 1_000_000), String(DEFAULT_SERVER_LIMITS.maxConnections), 1),
    shutdownDrainMs: vars.parse('SOFTCLIENT4ES_SHUTDOWN_DRAIN', (value) => parseDuration(value, SHUTDOWN_DRAIN_RANGE), '0s', 0),
  };
  return { agent, host };
}
