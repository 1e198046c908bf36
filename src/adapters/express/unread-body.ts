import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

/**
 * Makes the connection of a request that carries a body close when the request is answered before
 * its body has been read to the end — a refusal such as 401, 404, 405 or 413.
 *
 * Why: to reuse a keep-alive connection, Node's HTTP server reads and discards whatever body the
 * handler left unread (`res.end` → `req._dump()`), to its declared end: a 401 to an unauthenticated
 * 10 GB upload would keep reading 10 GB. With `Connection: close` Node instead closes the socket as
 * soon as the answer has been flushed, having read only what the kernel had buffered. A body read to
 * its end (a handler that consumes it) makes the connection reusable again.
 */
export function closeConnectionUnlessBodyRead(req: IncomingMessage, res: ServerResponse): void {
  if (!carriesBody(req) || res.hasHeader('connection')) return; // no body to drain, or decided already
  res.setHeader('Connection', 'close');
  req.once('end', () => {
    if (!res.headersSent) res.removeHeader('Connection'); // fully read: keep-alive as the client asked
  });
}

/** `closeConnectionUnlessBodyRead` as Express middleware, for a router mounted in any host's server. */
export function closeUnlessBodyRead(): RequestHandler {
  return (req, res, next) => {
    closeConnectionUnlessBodyRead(req, res);
    next();
  };
}

function carriesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
