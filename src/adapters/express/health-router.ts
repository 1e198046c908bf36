import express, { type Router } from 'express';

/** Why `/readyz` answers what it does: `starting` until the initial resolution has finished, `shutting_down` once a shutdown began. */
export type Readiness = 'ready' | 'starting' | 'shutting_down';

const NOT_READY = {
  starting: 'the initial license resolution has not finished',
  shutting_down: 'the server is shutting down',
} as const;

/** `/healthz`: the process answers. `/readyz`: 200 when `readiness()` is `ready`, else 503 saying why. */
export function healthRouter(readiness: () => Readiness): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const status = readiness();
    if (status === 'ready') res.json({ status });
    else res.status(503).json({ status, message: NOT_READY[status] });
  });
  return router;
}
