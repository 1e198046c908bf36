import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from '../../ports/logger.port.js';
import { closeConnectionUnlessBodyRead } from '../express/unread-body.js';

/** What one client, or many, may cost the server. Times in milliseconds. */
export interface ServerLimits {
  /** A client must send all its request headers within this (else 408 and close; slowloris). */
  readonly headersTimeoutMs: number;
  /** ... and its whole request, body included, within this. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** How often the two request timeouts above are checked: they fire up to this much late. */
  readonly timeoutCheckIntervalMs: number;
  /** Request headers beyond this count are ignored (Node's own size cap, 16 KiB, also applies). */
  readonly maxHeadersCount: number;
  /** Open connections; further ones are closed at once (WARN, rate-limited). `MAX_CONNECTIONS`. */
  readonly maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  timeoutCheckIntervalMs: 1_000,
  maxHeadersCount: 100,
  maxConnections: 1024,
};

/** At most one WARN per this period about refused connections, with the count since the last one. */
const REFUSED_CONNECTIONS_LOG_PERIOD_MS = 60_000;

/**
 * An HTTP server for `handler` with explicit limits (`DEFAULT_SERVER_LIMITS` unless overridden),
 * and one rule for every route: a request answered before its body was read closes its connection
 * instead of having the body drained (see `closeConnectionUnlessBodyRead`). Not yet listening.
 * Throws `RangeError` when `headersTimeoutMs` exceeds `requestTimeoutMs`.
 */
export function createBoundedServer(handler: RequestListener, logger: Logger, overrides: Partial<ServerLimits> = {}): Server {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...overrides };
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    (req, res) => {
      closeConnectionUnlessBodyRead(req, res);
      handler(req, res);
    },
  );
  server.maxHeadersCount = limits.maxHeadersCount;
  server.maxConnections = limits.maxConnections;
  warnOnRefusedConnections(server, logger, limits.maxConnections);
  return server;
}

/** Logs the first refused connection at once, then at most once a period with how many were refused. */
function warnOnRefusedConnections(server: Server, logger: Logger, maxConnections: number): void {
  let refused = 0;
  let quietUntil = 0;
  server.on('drop', () => {
    refused += 1;
    const now = Date.now();
    if (now < quietUntil) return;
    logger.warn(`Refused ${refused} connection(s): ${maxConnections} are open, the most MAX_CONNECTIONS allows`, { refused, max_connections: maxConnections });
    refused = 0;
    quietUntil = now + REFUSED_CONNECTIONS_LOG_PERIOD_MS;
  });
}
