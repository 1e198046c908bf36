import { readFileSync } from 'node:fs';
import express, { type Router } from 'express';
import { requireBearerToken } from './bearer-auth.js';

export interface AdminApi {
  /** The admin bearer token, or null when none could be set up (every call is then refused). */
  adminToken(): string | null;
  /** The body of `GET /admin/license`. */
  licenseStatus(): object;
}

/** The admin API of DESIGN §6, mounted by the host under `/admin`; every route needs the bearer token. */
export function adminRouter(api: AdminApi, openApiPath: string): Router {
  const openApiDocument = readFileSync(openApiPath, 'utf8');
  const router = express.Router();
  router.use(requireBearerToken(() => api.adminToken()));
  router.get('/license', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(api.licenseStatus());
  });
  router.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(openApiDocument);
  });
  return router;
}
