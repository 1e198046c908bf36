import { connect, type Socket } from 'node:net';

/** What a raw client saw of one connection. */
export interface RawExchange {
  /** Every byte the server sent, as text. */
  readonly response: string;
  /** Body bytes the client managed to hand to its socket before the connection ended (an upper bound of what the server read). */
  readonly bodyBytesSent: number;
  /** True when the server ended the connection within the wait; false when the client gave up. */
  readonly closedByServer: boolean;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Opens a TCP connection to the host and port of `url`. */
export async function rawConnection(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/**
 * Sends the request `head` (request line and headers, with their blank line), then a body that
 * never ends — raw bytes, or chunked frames when `chunked` — as fast as the connection takes it,
 * until the server ends the connection or `timeoutMs` passes (a bounded wait, not a measurement).
 */
export async function sendEndlessBody(url: string, head: string, { chunked = false, timeoutMs = 5_000 } = {}): Promise<RawExchange> {
  const socket = await rawConnection(url);
  const frame = chunked ? Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')]) : CHUNK;
  let response = '';
  let bodyBytesSent = 0;
  socket.setEncoding('utf8').on('data', (text: string) => (response += text));
  socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server has closed: expected
  const pump = () => {
    while (!socket.destroyed && socket.writable) {
      bodyBytesSent += CHUNK.length;
      if (!socket.write(frame)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  socket.write(head);
  pump();
  const closedByServer = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.destroy();
  return { response, bodyBytesSent, closedByServer };
}

/** Sends `request` (complete, raw) and resolves with the text received once `until` holds for it. */
export async function rawRequest(socket: Socket, request: string, until: (received: string) => boolean, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const timer = setTimeout(() => reject(new Error(`no complete answer within ${timeoutMs} ms; got ${JSON.stringify(received)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      received += chunk.toString('utf8');
      if (!until(received)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(received);
    };
    socket.on('data', onData);
    socket.write(request);
  });
}
