import type { Server } from 'node:http';
import { PinoLogger } from '../adapters/pino/pino-logger.js';
import { TrustedKeysError } from '../adapters/jose/trusted-keys.js';
import { ConfigError, loadConfig, type AgentConfig } from './config.js';
import { createLicenseAgent, textGateFor } from './create-license-agent.js';
import { createHostServer } from './host-server.js';
import type { LicenseAgent } from './license-agent.js';

const SHUTDOWN_DEADLINE_MS = 4_000;
/** What is left of the 5 s shutdown budget for writing out the last log lines (none when stdout has stalled). */
const LOG_FLUSH_TIMEOUT_MS = 500;

/** `npm start`: the example host server. Listens first, then resolves the license. */
async function main(): Promise<void> {
  const config = configOrExit();
  // Lines are written asynchronously: shutdown awaits logger.flush(); pino's exit hook writes out
  // whatever is left however the process ends (skipped when stdout has stalled: no hang on exit).
  const logger = new PinoLogger({ level: config.logLevel, gate: textGateFor(config) });
  let agent: LicenseAgent;
  try {
    agent = await createLicenseAgent(config, { logger });
  } catch (error) {
    if (error instanceof TrustedKeysError) exitWith(`Invalid trusted license keys: ${error.message}`);
    throw error;
  }
  const server = createHostServer(agent, logger, { maxConnections: config.maxConnections });
  server.listen(config.port, config.host);
  server.once('error', (error: NodeJS.ErrnoException) => exitWith(`Cannot listen on ${config.host}:${config.port}: ${error.code ?? error.message}`, 1));
  server.once('listening', () => logger.info(`Listening on ${describeAddress(server)}`));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void shutdown(signal, server, agent, logger));
  }
  await agent.start();
}

function configOrExit(): AgentConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) exitWith(error.message);
    throw error;
  }
}

/** Stops accepting connections, lets in-flight requests finish, cancels timers, exits 0. */
async function shutdown(signal: string, server: Server, agent: LicenseAgent, logger: PinoLogger): Promise<void> {
  logger.info(`Received ${signal}, shutting down`);
  const forced = setTimeout(() => {
    logger.warn('Shutdown deadline reached; closing remaining connections');
    server.closeAllConnections();
  }, SHUTDOWN_DEADLINE_MS);
  forced.unref();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await Promise.all([closed, agent.stop()]);
  clearTimeout(forced);
  logger.info('Stopped');
  await logger.flush(LOG_FLUSH_TIMEOUT_MS);
  process.exit(0);
}

function describeAddress(server: Server): string {
  const address = server.address();
  if (address === null || typeof address === 'string') return String(address);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function exitWith(line: string, code = 2): never {
  process.stderr.write(`${line}\n`);
  process.exit(code);
}

main().catch((error: unknown) => {
  exitWith(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`, 1);
});
