import { ConfigError, loadConfig, type AgentConfig } from '../config.js';
import { CliError, EXIT } from './usage.js';

/** The agent's configuration from the environment, as the agent reads it; a bad variable ends the command (exit 2). */
export function cliConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(EXIT.USAGE, error.message.split('\n'));
    throw error;
  }
}
