import { readFileSync } from 'node:fs';
import express, { type Response, type Router } from 'express';
import type { ForcedRefreshResult } from '../../domain/refresh/force-refresh.js';
import type { RefreshOutcome } from '../../domain/refresh/refresh-license.js';
import { tierName } from '../../domain/model/tier.js';
import { requireBearerToken } from './bearer-auth.js';

export interface AdminApi {
  /** The admin bearer token, or null when none could be set up (every call is then refused). */
  adminToken(): string | null;
  /** The body of `GET /admin/license`. */
  licenseStatus(): object;
  /** Runs (or joins) a forced refresh. */
  forceRefresh(): Promise<ForcedRefreshResult>;
}

/** The admin API of DESIGN §6, mounted by the host under `/admin`; every route needs the bearer token. */
export function adminRouter(api: AdminApi, openApiPath: string): Router {
  const openApiDocument = readFileSync(openApiPath, 'utf8');
  const router = express.Router();
  router.use(requireBearerToken(() => api.adminToken()));
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.get('/license', (_req, res) => {
    res.json(api.licenseStatus());
  });
  router.post('/license/refresh', async (_req, res) => {
    sendRefreshResult(res, await api.forceRefresh());
  });
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(openApiDocument);
  });
  return router;
}

function sendRefreshResult(res: Response, result: ForcedRefreshResult): void {
  switch (result.kind) {
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
      res.status(result.outcome.status === 'refreshed' ? 200 : 502).json(refreshBody(result.outcome));
  }
}

function refreshBody({ status, previousTier, snapshot, failure }: RefreshOutcome) {
  const { license } = snapshot;
  return {
    status,
    previous_tier: tierName(previousTier),
    new_tier: tierName(license.tier),
    trial: license.trial,
    expires_at: license.expiresAt?.toISOString() ?? null,
    message: failure === null ? `${tierName(license.tier)} license in force (source: ${license.source})` : failure.message,
  };
}
