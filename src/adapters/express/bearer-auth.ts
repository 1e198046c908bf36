import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Requires `Authorization: Bearer <token>`. Both sides are hashed first so the comparison is
 * constant-time whatever the lengths; the token is never echoed or logged. `onRefused` hears of
 * every 401 (for an audit line), with whether a token was presented at all.
 */
export function requireBearerToken(
  expectedToken: () => string | null,
  onRefused: (req: Request, presented: boolean) => void = () => undefined,
): RequestHandler {
  return (req, res, next) => {
    const expected = expectedToken();
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(req.get('authorization') ?? '');
    const provided = match?.[1];
    if (expected !== null && provided !== undefined && timingSafeEqual(digest(provided), digest(expected))) {
      next();
      return;
    }
    onRefused(req, provided !== undefined);
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="softclient4es-admin"')
      .json({ error: 'unauthorized', message: 'a valid admin bearer token is required' });
  };
}
