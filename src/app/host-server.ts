import express, { type Express } from 'express';
import { errorHandler, notFound } from '../adapters/express/json-errors.js';
import type { Logger } from '../ports/logger.port.js';
import type { LicenseAgent } from './license-agent.js';

/** The example host (`npm start`): how a server product embeds the agent. */
export function createHostApp(agent: LicenseAgent, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(agent.healthRouter());
  app.use('/admin', agent.adminRouter());
  app.use(notFound);
  app.use(errorHandler((error) => logger.error('Unexpected error while handling a request', { err: error })));
  return app;
}
