import type { Server } from 'node:http';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { errorHandler, notFound } from '../adapters/express/json-errors.js';
import { requestIds } from '../adapters/express/request-id.js';
import { createBoundedServer, type ServerLimits } from '../adapters/http-server/bounded-server.js';
import { tierName } from '../domain/model/tier.js';
import type { Logger } from '../ports/logger.port.js';
import type { LicenseAgent } from './license-agent.js';

/** The query parameters of `/demo/query`: counts; `joins` and `clusters` default to 0, `rows` to the cap. */
const DEMO_COUNTS = ['rows', 'joins', 'clusters'] as const;

/**
 * The example host's HTTP server, not yet listening: `createHostApp` behind the limits of
 * `createBoundedServer` (timeouts, connection cap — `limits.maxConnections` from `MAX_CONNECTIONS`).
 */
export function createHostServer(agent: LicenseAgent, logger: Logger, limits: Partial<ServerLimits> = {}): Server {
  return createBoundedServer(createHostApp(agent, logger), logger, limits);
}

/** The example host (`npm start`): how a server product embeds the agent. */
export function createHostApp(agent: LicenseAgent, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestIds(logger)); // X-Request-Id and the access log
  app.use(agent.healthRouter());
  app.get('/metrics', agent.metricsHandler());
  // enforce() where it is needed rather than app-wide, which would add an Express layer (a few µs
  // per request, npm run bench) to every route. On /demo/query it pins the license before the
  // query check, so that a 400 carries the mid-grace Warning too.
  app.use('/admin', agent.enforce(), agent.adminRouter());
  app.get(
    '/demo/query',
    agent.enforce(),
    requireCounts(),
    // No rows= asks for "all rows": capped at max_result_rows (X-License-Capped), not refused.
    agent.capQuota('max_result_rows', (req) => counts(req).rows),
    agent.requireQuota('max_joins', (req) => counts(req).joins ?? 0),
    agent.requireQuota('max_clusters', (req) => counts(req).clusters ?? 0),
    agent.limitConcurrency(),
    (req, res) => {
      res.json({ ok: true, tier: tierName(req.license?.tier ?? agent.current().license.tier) });
    },
  );
  app.use(notFound);
  app.use(errorHandler((error) => logger.error('Unexpected error while handling a request', { err: error })));
  return app;
}

type DemoCounts = Record<(typeof DEMO_COUNTS)[number], number | undefined>;

/** The counts `requireCounts` parsed (Express 5 parses the query string again on every `req.query` read). */
function counts(req: Request): DemoCounts {
  return req.res?.locals.demoCounts as DemoCounts;
}

/** 400 unless every count given is a non-negative integer; parses them once for the quota checks. */
function requireCounts(): RequestHandler {
  return (req, res, next) => {
    const query = req.query;
    const parsed: Partial<DemoCounts> = {};
    for (const name of DEMO_COUNTS) {
      const value = query[name];
      if (value !== undefined && (typeof value !== 'string' || !/^\d{1,15}$/.test(value))) {
        res.status(400).json({ error: 'invalid_request', message: `${name} must be a non-negative integer` });
        return;
      }
      parsed[name] = value !== undefined ? Number(value) : name === 'rows' ? undefined : 0;
    }
    res.locals.demoCounts = parsed;
    next();
  };
}
