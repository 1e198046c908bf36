import type { Server } from 'node:http';
import { PinoLogger } from '../adapters/pino/pino-logger.js';
import { TrustedKeysError } from '../adapters/jose/trusted-keys.js';
import { ConfigError } from './config.js';
import { loadHostConfig, type HostConfig } from './host-config.js';
import { createLicenseAgent, textGateFor } from './create-license-agent.js';
import { createHostServer } from './host-server.js';
import type { LicenseAgent } from './license-agent.js';

const SHUTDOWN_DEADLINE_MS = 4_000;
/** What is left of the 5 s shutdown budget for writing out the last log lines (none when stdout has stalled). */
const LOG_FLUSH_TIMEOUT_MS = 500;

/** `npm start`: the example host server. Listens first, then resolves the license. */
async function main(): Promise<void> {
  // SIGHUP is taken over first: until a listener exists Node's default action ends the process, and
  // building the agent takes a while (its files, its keys) — a reloader or `kill -HUP` that fires
  // while the server starts would kill it. One that arrives before the agent exists is carried out
  // once it does.
  let reload: (() => void) | null = null;
  let reloadAsked = false;
  process.on('SIGHUP', () => {
    if (reload === null) reloadAsked = true;
    else reload();
  });
  const { agent: config, host } = configOrExit();
  // Lines are written asynchronously: shutdown awaits logger.flush(); pino's exit hook writes out
  // whatever is left however the process ends (skipped when stdout has stalled: no hang on exit).
  const logger = new PinoLogger({ level: host.logLevel, gate: textGateFor(config) });
  let agent: LicenseAgent;
  try {
    agent = await createLicenseAgent(config, { logger });
  } catch (error) {
    if (error instanceof TrustedKeysError) exitWith(`Invalid trusted license keys: ${error.message}`);
    throw error;
  }
  const server = createHostServer(agent, logger, { maxConnections: host.maxConnections });
  server.listen(host.port, host.host);
  server.once('error', (error: NodeJS.ErrnoException) => exitWith(`Cannot listen on ${host.host}:${host.port}: ${error.code ?? error.message}`, 1));
  server.once('listening', () => logger.info(`Listening on ${describeAddress(server)}`));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void shutdown(signal, server, agent, logger, host));
  }
  // SIGHUP: read the secret files and trusted keys again (a bad file keeps the previous set).
  reload = () => {
    agent.reload().catch((error: unknown) => logger.error('Reload failed unexpectedly', { err: error }));
  };
  if (reloadAsked) reload();
  await agent.start();
}

function configOrExit(): ReturnType<typeof loadHostConfig> {
  try {
    return loadHostConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) exitWith(error.message);
    throw error;
  }
}

/**
 * `/readyz` answers 503 for the drain period (so that a load balancer stops sending traffic), then
 * the server stops accepting connections, lets in-flight requests finish, cancels timers, exits 0.
 */
async function shutdown(signal: string, server: Server, agent: LicenseAgent, logger: PinoLogger, host: HostConfig): Promise<void> {
  logger.info(`Received ${signal}, shutting down`, { drain_ms: host.shutdownDrainMs });
  agent.beginShutdown();
  if (host.shutdownDrainMs > 0) await new Promise((resolve) => setTimeout(resolve, host.shutdownDrainMs));
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
