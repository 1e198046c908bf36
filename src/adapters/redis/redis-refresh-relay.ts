import { randomUUID } from 'node:crypto';
import type { RefreshRelay, RelayedRefresh } from '../../ports/refresh-relay.port.js';
import type { RedisFleetConnection } from './redis-fleet-connection.js';

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** How long an answer waits for its asker in Redis. */
const REPLY_TTL_MS = 60_000;
/** The asker also reads the answer's key this often, in case the announcement was missed. */
const REPLY_POLL_MS = 250;
const MAX_TEXT = 1_000;

/**
 * Forced refreshes carried to the lease holder: the asker publishes a request id on
 * `<prefix>refresh-requests`; the holder refreshes, stores its outcome under
 * `<prefix>refresh-reply:<id>` (60 s TTL) and announces it on `<prefix>refresh-replies`. The asker
 * waits for the announcement (or finds the key by polling), within its deadline.
 */
export class RedisRefreshRelay implements RefreshRelay {
  readonly #waiting = new Map<string, () => void>();
  #listening: (() => void) | null = null;

  constructor(private readonly connection: RedisFleetConnection) {}

  async forward(timeoutMs: number): Promise<RelayedRefresh | null> {
    const { keys } = this.connection;
    this.#listening ??= this.connection.subscribe(keys.refreshReplyChannel, (id) => this.#waiting.get(id)?.());
    const id = randomUUID();
    const deadline = Date.now() + timeoutMs;
    let wake: () => void = () => undefined;
    this.#waiting.set(id, () => wake());
    try {
      await this.connection.run('forward the refresh', (client) => client.publish(keys.refreshRequestChannel, id));
      while (Date.now() < deadline) {
        const text = await this.connection.run('read the refresh answer', (client) => client.get(keys.reply(id)));
        if (text !== null) return parseReply(text);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, Math.min(REPLY_POLL_MS, deadline - Date.now())));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return null;
    } finally {
      this.#waiting.delete(id);
    }
  }

  serve(serving: () => boolean, handler: () => Promise<RelayedRefresh>): () => void {
    const { keys } = this.connection;
    return this.connection.subscribe(keys.refreshRequestChannel, (id) => {
      if (!REQUEST_ID.test(id) || !serving()) return;
      void handler()
        .then((reply) =>
          this.connection.run('answer the refresh', (client) =>
            client
              .multi()
              .set(keys.reply(id), JSON.stringify(reply), { expiration: { type: 'PX', value: REPLY_TTL_MS } })
              .publish(keys.refreshReplyChannel, id)
              .exec(),
          ),
        )
        .catch(() => undefined); // the asker times out and says so
    });
  }
}

/** An answer as stored in Redis: anything but `{status, code, message}` of the right types is no answer. */
function parseReply(text: string): RelayedRefresh | null {
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    return null;
  }
  const { status, code, message } = (typeof reply === 'object' && reply !== null ? reply : {}) as Record<string, unknown>;
  const optionalText = (value: unknown) => (typeof value === 'string' ? value.slice(0, MAX_TEXT) : null);
  if (status !== 'refreshed' && status !== 'failed' && status !== 'skipped') return null;
  return { status, code: optionalText(code), message: optionalText(message) };
}
