import type { RequestHandler } from 'express';

/** Whatever renders metrics in the Prometheus text format. */
export interface MetricsExposition {
  render(): Promise<string>;
  readonly contentType: string;
}

export function metricsHandler(metrics: MetricsExposition): RequestHandler {
  return async (_req, res) => {
    res.set('Content-Type', metrics.contentType).send(await metrics.render());
  };
}
