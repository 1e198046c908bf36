import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../ports/logger.port.js';

/** A request id a client may choose: short, and nothing that could forge or break a log line. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of this request (`X-Request-Id`), once `requestIds()` ran; undefined before. */
export const requestIdOf = (res: Response): string | undefined => res.locals.requestId as string | undefined;

/**
 * Gives every request an id — the client's `X-Request-Id` when it is well-formed, else a new UUID —
 * echoed in the response's `X-Request-Id` and written to the access log: one INFO line per request
 * when its response is finished or the connection closes, with method, path (never the query
 * string, which may carry anything), status and duration in milliseconds.
 */
export function requestIds(accessLog: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const id = given !== undefined && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = id;
    res.set('X-Request-Id', id);
    const started = process.hrtime.bigint();
    const path = req.path; // now, before a router mounted on a prefix strips it
    res.once('close', () => accessLog.info('request', accessFields(req, res, id, path, started)));
    next();
  };
}

function accessFields(req: Request, res: Response, id: string, path: string, started: bigint) {
  return {
    request_id: id,
    method: req.method,
    path,
    status: res.writableFinished ? res.statusCode : null, // null: the client went away first
    duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
    remote: req.socket.remoteAddress ?? null,
  };
}
