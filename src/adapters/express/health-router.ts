import express, { type Router } from 'express';

/** `/healthz`: the process answers. `/readyz`: the initial license resolution has finished. */
export function healthRouter(isReady: () => boolean): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    if (isReady()) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'starting', message: 'the initial license resolution has not finished' });
  });
  return router;
}
