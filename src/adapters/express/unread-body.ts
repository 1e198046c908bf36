import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';

/**
 * After a refusal, how long and how much of the unread body is still received and thrown away
 * before the socket is destroyed ("lingering close", as nginx does): destroying a socket whose
 * receive buffer holds data makes the kernel send a reset, and a client that gets the reset
 * before it has read the answer loses the answer.
 */
export const LINGER_MS = 2_000;
export const LINGER_BYTES = 16 * 1024 * 1024;

/**
 * Makes the connection of a request that carries a body close when the request is answered before
 * its body has been read to the end — a refusal such as 401, 404, 405 or 413.
 *
 * Why: to reuse a keep-alive connection, Node's HTTP server reads and discards whatever body the
 * handler left unread (`res.end` → `req._dump()`), to its declared end: a 401 to an unauthenticated
 * 10 GB upload would keep reading 10 GB. With `Connection: close` Node instead closes the socket as
 * soon as the answer has been flushed, after a short bounded linger (`LINGER_MS`, `LINGER_BYTES`)
 * that lets the client read the answer. A body read to its end (a handler that consumes it) makes
 * the connection reusable again.
 */
export function closeConnectionUnlessBodyRead(req: IncomingMessage, res: ServerResponse): void {
  if (!carriesBody(req) || res.hasHeader('connection')) return; // no body to drain, or decided already
  res.setHeader('Connection', 'close');
  lingerOnClose(req.socket);
  req.once('end', () => {
    if (!res.headersSent) res.removeHeader('Connection'); // fully read: keep-alive as the client asked
  });
}

const LINGERING = Symbol('softclient4es.lingering');

/**
 * Node's server ends a `Connection: close` exchange with `socket.destroySoon()`: end, then destroy
 * once the answer is flushed. Here the destroy waits until the client has closed its side, or
 * `LINGER_MS` have passed, or `LINGER_BYTES` more were received, whichever comes first.
 */
function lingerOnClose(socket: Socket): void {
  const lingering = socket as Socket & { [LINGERING]?: true };
  if (lingering[LINGERING]) return;
  lingering[LINGERING] = true;
  socket.destroySoon = function destroyAfterLinger(this: Socket) {
    const receivedBefore = this.bytesRead;
    const stop = () => {
      clearInterval(watch);
      this.destroy();
    };
    const watch = setInterval(() => {
      if (this.bytesRead - receivedBefore > LINGER_BYTES) stop();
    }, 50);
    watch.unref();
    setTimeout(stop, LINGER_MS).unref();
    this.once('end', stop).once('close', () => clearInterval(watch));
    this.end();
  };
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
