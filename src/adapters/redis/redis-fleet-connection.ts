import { randomUUID } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { FleetError } from '../../domain/model/errors.js';
import type { TextGate } from '../../domain/model/safe-text.js';
import type { Logger } from '../../ports/logger.port.js';
import { FleetKeys } from './fleet-keys.js';

export interface RedisFleetSettings {
  readonly url: URL;
  readonly fleetId: string;
  /** Bound of a connection attempt and of every command: a stalled Redis never holds the agent up. */
  readonly commandTimeoutMs: number;
}

/**
 * One member's connections to the fleet's Redis: commands, and a second connection for pub/sub.
 * Commands fail at once while Redis is unreachable (no offline queue) and within the command
 * timeout when it stalls; the client reconnects by itself. Failures become `FleetError`s whose
 * messages passed the text gate (the URL's credentials are secrets of the gate).
 */
export class RedisFleetConnection {
  readonly keys: FleetKeys;
  /** This process in the fleet: heartbeats and the lease name it. */
  readonly memberId = randomUUID();
  readonly client: RedisClientType;
  readonly #subscriber: RedisClientType;
  readonly #subscriptions = new Map<string, Set<(message: string) => void>>();
  readonly #subscribed = new Set<string>();
  #connecting: Promise<void> | null = null;
  #closed = false;

  constructor(
    private readonly settings: RedisFleetSettings,
    private readonly logger: Logger,
    private readonly gate: TextGate,
  ) {
    this.keys = new FleetKeys(settings.fleetId);
    const timeout = settings.commandTimeoutMs;
    this.client = createClient({
      url: settings.url.href,
      disableOfflineQueue: true,
      commandOptions: { timeout },
      socket: { connectTimeout: timeout, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) },
    }) as RedisClientType;
    this.#subscriber = this.client.duplicate() as RedisClientType;
    // The client reconnects by itself; the fleet member notices through failing commands.
    for (const connection of [this.client, this.#subscriber]) connection.on('error', () => undefined);
    // A subscription that failed (Redis was down) is made again once the connection is back.
    this.#subscriber.on('ready', () => this.#subscribeAll());
  }

  /** Connects (once; later calls share it), waiting at most the command timeout. True when connected. */
  async open(): Promise<boolean> {
    this.#connecting ??= Promise.all([this.client.connect(), this.#subscriber.connect()]).then(
      () => undefined,
      () => undefined, // only when closed meanwhile
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#connecting, new Promise((resolve) => (timer = setTimeout(resolve, this.settings.commandTimeoutMs)))]);
    clearTimeout(timer);
    return this.client.isReady;
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  /** Runs `command`, turning any failure into `FleetError` `FLEET.UNREACHABLE`. */
  async run<T>(what: string, command: (client: RedisClientType) => Promise<T>): Promise<T> {
    try {
      return await command(this.client);
    } catch (error) {
      throw new FleetError('FLEET.UNREACHABLE', `fleet store (Redis) could not ${what}: ${this.gate.pass(error instanceof Error ? error.message : String(error), 200)}`, {
        cause: error,
      });
    }
  }

  /** Calls `listener` for every message on `channel` (resubscribed by the client after a reconnect). */
  subscribe(channel: string, listener: (message: string) => void): () => void {
    let listeners = this.#subscriptions.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.#subscriptions.set(channel, listeners);
      this.#subscribeAll();
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  #subscribeAll(): void {
    if (!this.#subscriber.isReady) return;
    for (const [channel, listeners] of this.#subscriptions) {
      if (this.#subscribed.has(channel)) continue;
      this.#subscribed.add(channel);
      this.#subscriber
        .subscribe(channel, (message: string) => {
          for (const listener of listeners) listener(message);
        })
        .catch((error: unknown) => {
          this.#subscribed.delete(channel);
          this.logger.debug('Fleet subscription failed; polling covers it until it is made again', { channel, err: error });
        });
    }
  }

  /** Closes both connections; pending commands fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const connection of [this.client, this.#subscriber]) {
      try {
        connection.destroy();
      } catch {
        // already closed
      }
    }
  }
}
