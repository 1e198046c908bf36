import { ConfigError, loadConfig, type AgentConfig } from '../config.js';
import { loadHostConfig, type HostConfig } from '../host-config.js';
import { CliError, EXIT } from './usage.js';

/** The agent's configuration from the environment, as the agent reads it; a bad variable ends the command (exit 2). */
export function cliConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return orUsageError(() => loadConfig(env));
}

/** The agent's configuration and the example host's (`HOST`, `PORT`: where the agent listens). */
export function cliHostConfig(env: NodeJS.ProcessEnv = process.env): { readonly agent: AgentConfig; readonly host: HostConfig } {
  return orUsageError(() => loadHostConfig(env));
}

function orUsageError<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(EXIT.USAGE, error.message.split('\n'));
    throw error;
  }
}
