import type { ErrorRequestHandler, RequestHandler } from 'express';

/** Unknown routes answer JSON, like every other route. */
export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
};

/**
 * 405 `method_not_allowed` with the `Allow` header, for a known path asked with a method it does not
 * serve. `path` is the route's own (never echoed from the request).
 */
export function methodNotAllowed(path: string, allowed: readonly string[]): RequestHandler {
  const allow = allowed.join(', ');
  return (req, res) => {
    res
      .status(405)
      .set('Allow', allow)
      .json({ error: 'method_not_allowed', message: `${req.method} is not allowed on ${path}; use ${allow}` });
  };
}

/**
 * The one place errors become responses: a client error keeps its status (a malformed body, say);
 * anything else is a 500 that reveals nothing about the cause.
 */
export function errorHandler(onUnexpected: (error: unknown) => void): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const status = typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : 500;
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: 'bad_request', message: 'the request could not be understood' });
      return;
    }
    onUnexpected(error);
    res.status(500).json({ error: 'internal_error', message: 'unexpected error; see the server log' });
  };
}
