import type { Request, RequestHandler, Response } from 'express';

/**
 * Refuses a request body over `maxBytes` with 413 `payload_too_large`: at once when
 * `Content-Length` declares more (nothing is read), or as soon as a body without one (chunked)
 * grows past it (the rest is not read). A body within the limit is read to its end and discarded —
 * the routes behind this expect none — before the next handler runs.
 */
export function limitBody(maxBytes: number): RequestHandler {
  return (req, res, next) => {
    if (req.readableEnded) next();
    else readBounded(req, res, maxBytes, () => next());
  };
}

/**
 * Reads a JSON request body of at most `maxBytes` into `req.body`: 413 `payload_too_large` as
 * `limitBody` does; 400 `invalid_request` when the body is not UTF-8 JSON. The body is read here,
 * whatever its `Content-Type` (the admin routes have one form only) — unless a body parser of the
 * host (`express.json()`, `express.text()` in front of the admin router) has read it already:
 * waiting for a stream that has ended would leave the request unanswered. What that parser made
 * of it is held to the same limit (an object by the size of its JSON) and the same rules.
 */
export function readJsonBody(maxBytes: number): RequestHandler {
  return (req, res, next) => {
    const parseAndGo = (bytes: Buffer) => {
      if (parseInto(req, bytes)) next();
      else invalidJson(res);
    };
    if (!req.readableEnded) {
      readBounded(req, res, maxBytes, parseAndGo);
      return;
    }
    const body: unknown = req.body;
    const bytes =
      typeof body === 'string' ? Buffer.from(body, 'utf8')
      : Buffer.isBuffer(body) ? body
      : typeof body === 'object' && body !== null ? Buffer.from(JSON.stringify(body), 'utf8')
      : null;
    if (bytes === null) invalidJson(res);
    else if (bytes.length > maxBytes) payloadTooLarge(res, maxBytes);
    else parseAndGo(bytes);
  };
}

/** Reads the body to its end within `maxBytes` and hands it over; 413 (and no more reading) beyond. */
function readBounded(req: Request, res: Response, maxBytes: number, onBody: (bytes: Buffer) => void): void {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
    payloadTooLarge(res, maxBytes);
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= maxBytes) {
      chunks.push(chunk);
      return;
    }
    req.off('data', onData).off('end', onEnd);
    req.pause(); // read no further; the refusal closes the connection (unread-body.ts)
    payloadTooLarge(res, maxBytes);
  };
  const onEnd = () => {
    req.off('data', onData);
    onBody(Buffer.concat(chunks));
  };
  req.on('data', onData).once('end', onEnd);
}

function payloadTooLarge(res: Response, maxBytes: number): void {
  res.status(413).json({ error: 'payload_too_large', message: `the request body must not exceed ${maxBytes} bytes` });
}

/** Sets `req.body` to the UTF-8 JSON in `bytes`; false when they are not that. */
function parseInto(req: Request, bytes: Buffer): boolean {
  try {
    req.body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
    return true;
  } catch {
    return false;
  }
}

function invalidJson(res: Response): void {
  res.status(400).json({ error: 'invalid_request', message: 'the request body must be a JSON object' });
}
