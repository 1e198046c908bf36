import { readFileSync } from 'node:fs';
import express, { type Response, type Router } from 'express';
import type { ForcedRefreshResult } from '../../domain/refresh/force-refresh.js';
import type { InstallResult } from '../../domain/installation/install-license.js';
import type { RemoveResult } from '../../domain/installation/remove-installed-license.js';
import type { RefreshOutcome } from '../../domain/refresh/refresh-license.js';
import { tierName } from '../../domain/model/tier.js';
import type { Logger } from '../../ports/logger.port.js';
import { requireBearerToken } from './bearer-auth.js';
import { requestIdOf } from './request-id.js';
import { limitBody, readJsonBody } from './body-limit.js';
import { methodNotAllowed } from './json-errors.js';
import { closeUnlessBodyRead } from './unread-body.js';

/** The largest body an admin POST or DELETE accepts, in bytes; none of them expects one. */
export const ADMIN_MAX_BODY_BYTES = 1024;
/** The largest `PUT /admin/license` body: a license token of up to 16 KiB, and room for the JSON around it. */
export const INSTALL_MAX_BODY_BYTES = 16 * 1024 + 1024;

export interface AdminApi {
  /** The admin bearer token, or null when none could be set up (every call is then refused). */
  adminToken(): string | null;
  /** The body of `GET /admin/license`. */
  licenseStatus(): object;
  /** Runs (or joins) a forced refresh; `shutting_down` when the agent stops meanwhile. */
  forceRefresh(): Promise<ForcedRefreshResult | { readonly kind: 'shutting_down' }>;
  /** Verifies, stores and puts in force a license (`PUT /admin/license`). */
  installLicense(jwt: string): Promise<InstallResult>;
  /** Removes the installed license (`DELETE /admin/license`). */
  removeInstalledLicense(): Promise<RemoveResult>;
}

/**
 * The admin API of DESIGN §6, mounted by the host under `/admin`. Every request needs the bearer
 * token first: without it the answer is 401 whatever the path or method, so that the route map is
 * not revealed. Then a wrong method answers 405 with `Allow`, an unknown path 404, a POST or DELETE
 * body over `ADMIN_MAX_BODY_BYTES` or a PUT body over `INSTALL_MAX_BODY_BYTES` 413 (all JSON errors). Any answer given before the request body was read
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
    .put(readJsonBody(INSTALL_MAX_BODY_BYTES), async (req, res, next) => {
      const jwt = (req.body as { jwt?: unknown } | null)?.jwt;
      if (typeof jwt !== 'string' || jwt === '') {
        res.status(400).json({ error: 'invalid_request', message: 'the body must be {"jwt": "<license token>"}' });
        return;
      }
      const requestId = requestIdOf(res) ?? null;
      audit.info('License installation requested', { audit: 'license_install', request_id: requestId, remote: req.socket.remoteAddress ?? null });
      try {
        const result = await api.installLicense(jwt);
        audit.info('License installation answered', {
          audit: 'license_install',
          request_id: requestId,
          result: result.kind,
          code: result.kind === 'rejected' ? result.failure.code : null,
        });
        sendInstallResult(res, result);
      } catch (error) {
        next(error);
      }
    })
    .delete(limitBody(ADMIN_MAX_BODY_BYTES), async (req, res, next) => {
      const requestId = requestIdOf(res) ?? null;
      audit.info('Installed license removal requested', { audit: 'license_remove', request_id: requestId, remote: req.socket.remoteAddress ?? null });
      try {
        const result = await api.removeInstalledLicense();
        audit.info('Installed license removal answered', { audit: 'license_remove', request_id: requestId, result: result.kind });
        sendRemoveResult(res, result);
      } catch (error) {
        next(error);
      }
    })
    .all(methodNotAllowed('/admin/license', ['GET', 'HEAD', 'PUT', 'DELETE']));
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

function sendInstallResult(res: Response, result: InstallResult): void {
  switch (result.kind) {
    case 'installed':
      res.json(changeBody('installed', result.outcome));
      return;
    case 'rejected':
      res.status(400).json({ error: 'license_rejected', code: result.failure.code, message: result.failure.message });
      return;
    case 'static_configured':
      res.status(409).json({
        error: 'static_license_configured',
        message: 'SOFTCLIENT4ES_LICENSE_KEY is configured and takes precedence over an installed license; unset it to install one at runtime',
      });
      return;
    case 'not_saved':
      res.status(500).json({ error: 'license_not_saved', message: `the license was not installed: ${result.failure.message}` });
  }
}

function sendRemoveResult(res: Response, result: RemoveResult): void {
  switch (result.kind) {
    case 'removed':
      res.json(changeBody('removed', result.outcome));
      return;
    case 'none':
      res.status(404).json({ error: 'no_installed_license', message: 'no license is installed (PUT /admin/license installs one)' });
      return;
    case 'not_removed':
      res.status(500).json({ error: 'license_not_removed', message: `the installed license was not removed: ${result.failure.message}` });
  }
}

/** After an install or a removal: the license in force once the resolution ran again. */
function changeBody(status: 'installed' | 'removed', { previousTier, snapshot }: RefreshOutcome) {
  const { license } = snapshot;
  return {
    status,
    previous_tier: tierName(previousTier),
    new_tier: tierName(license.tier),
    trial: license.trial,
    expires_at: license.expiresAt?.toISOString() ?? null,
    message: `${tierName(license.tier)} license in force (source: ${license.source})`,
  };
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
