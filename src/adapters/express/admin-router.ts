import { readFileSync } from 'node:fs';
import express, { type Response, type Router } from 'express';
import type { ForcedRefreshResult } from '../../domain/refresh/force-refresh.js';
import type { RefreshOutcome } from '../../domain/refresh/refresh-license.js';
import { tierName } from '../../domain/model/tier.js';
import type { Logger } from '../../ports/logger.port.js';
import { requireBearerToken } from './bearer-auth.js';
import { requestIdOf } from './request-id.js';
import { limitBody } from './body-limit.js';
import { methodNotAllowed } from './json-errors.js';
import { closeUnlessBodyRead } from './unread-body.js';

/** The largest body an admin POST accepts, in bytes; none of them expects one. */
export const ADMIN_MAX_BODY_BYTES = 1024;

export interface AdminApi {
  /** The admin bearer token, or null when none could be set up (every call is then refused). */
  adminToken(): string | null;
  /** The body of `GET /admin/license`. */
  licenseStatus(): object;
  /** Runs (or joins) a forced refresh; `shutting_down` when the agent stops meanwhile. */
  forceRefresh(): Promise<ForcedRefreshResult | { readonly kind: 'shutting_down' }>;
}

/**
 * The admin API of DESIGN §6, mounted by the host under `/admin`. Every request needs the bearer
 * token first: without it the answer is 401 whatever the path or method, so that the route map is
 * not revealed. Then a wrong method answers 405 with `Allow`, an unknown path 404, a POST body over
 * `ADMIN_MAX_BODY_BYTES` 413 (all JSON errors). Any answer given before the request body was read
 * closes the connection instead of draining the body.
 */
export function adminRouter(api: AdminApi, openApiPath: string, audit: Logger): Router {
  const openApiDocument = readFileSync(openApiPath, 'utf8');
  const router = express.Router();
  router.use(closeUnlessBodyRead());
  router.use(
    requireBearerToken(
      () => api.adminToken(),
      (req, presented) =>
        audit.warn(`Admin API call refused: ${presented ? 'wrong' : 'no'} bearer token`, {
          audit: 'admin_unauthorized',
          request_id: requestIdOf(req.res as Response) ?? null,
          method: req.method,
          path: req.originalUrl.split('?')[0],
          remote: req.socket.remoteAddress ?? null,
        }),
    ),
  );
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router
    .route('/license')
    .get((_req, res) => {
      res.json(api.licenseStatus());
    })
    .all(methodNotAllowed('/admin/license', ['GET', 'HEAD']));
  router
    .route('/license/refresh')
    .post(limitBody(ADMIN_MAX_BODY_BYTES), async (req, res, next) => {
      const requestId = requestIdOf(res) ?? null;
      audit.info('Forced license refresh requested', { audit: 'forced_refresh', request_id: requestId, remote: req.socket.remoteAddress ?? null });
      try {
        const result = await api.forceRefresh();
        audit.info('Forced license refresh answered', { audit: 'forced_refresh', request_id: requestId, result: refreshAuditResult(result) });
        sendRefreshResult(res, result);
      } catch (error) {
        next(error); // Express 4 does not catch a rejected handler itself
      }
    })
    .all(methodNotAllowed('/admin/license/refresh', ['POST']));
  router
    .route('/openapi.yaml')
    .get((_req, res) => {
      res.type('application/yaml').send(openApiDocument);
    })
    .all(methodNotAllowed('/admin/openapi.yaml', ['GET', 'HEAD']));
  router.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'no such admin route; see /admin/openapi.yaml' });
  });
  return router;
}

function refreshAuditResult(result: Awaited<ReturnType<AdminApi['forceRefresh']>>): string {
  return result.kind === 'done' ? result.outcome.status : result.kind;
}

function sendRefreshResult(res: Response, result: Awaited<ReturnType<AdminApi['forceRefresh']>>): void {
  switch (result.kind) {
    case 'shutting_down':
      res.status(502).set('Connection', 'close').json({ error: 'shutting_down', message: 'the agent is shutting down; the refresh was not completed' });
      return;
    case 'no_api_key':
      res.status(409).json({ error: 'no_api_key', message: 'no API key is configured (SOFTCLIENT4ES_API_KEY): there is nothing to refresh' });
      return;
    case 'too_soon': {
      const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      res
        .status(429)
        .set('Retry-After', String(seconds))
        .json({ error: 'refresh_too_soon', message: `a forced refresh ran moments ago; retry in ${seconds} s` });
      return;
    }
    case 'done':
      res.status(result.outcome.status === 'failed' ? 502 : 200).json(refreshBody(result.outcome));
  }
}

/**
 * The forced-refresh body keeps `refreshed` | `failed` (DESIGN §6): a forced refresh that made no
 * backend call (a static JWT in force) ran the chain without failing, so it reads `refreshed`;
 * `skipped` appears in metrics and `GET /admin/license` only.
 */
function refreshBody({ status, previousTier, snapshot, failure }: RefreshOutcome) {
  const { license } = snapshot;
  return {
    status: status === 'failed' ? 'failed' : 'refreshed',
    previous_tier: tierName(previousTier),
    new_tier: tierName(license.tier),
    trial: license.trial,
    expires_at: license.expiresAt?.toISOString() ?? null,
    message: failure === null ? `${tierName(license.tier)} license in force (source: ${license.source})` : failure.message,
  };
}
