import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CLOCK_TOLERANCE_MS } from '../src/domain/model/license-validity.js';
import { aLicenseToken, type SigningKey } from '../test/support/signing-keys.js';
import type { AcceptableAnswer } from './soak-ledger.js';

/** What the backend does with the next request; the soak flips it every few seconds. */
export const BACKEND_MODES = ['pro', 'enterprise', 'http500', 'http503', 'hang', 'revoked401'] as const;
export type BackendMode = (typeof BACKEND_MODES)[number];

/** Whoever judges the run: told about every token served and every 401. */
export interface BackendObserver {
  /** The agent's own time (its high-water clock), epoch ms: what it will judge a token against. */
  agentNowMs(): number;
  acceptable(answer: AcceptableAnswer): void;
  revoked(at: number): void;
  note(line: string): void;
}

export interface FlappingBackendOptions {
  readonly key: SigningKey;
  readonly observer: BackendObserver;
  /** The agent's effective grace period, to tell when a served token is past `exp` + grace. */
  readonly gracePeriodMs: number;
  /** The agent's read timeout: a 200 finished later than this (less a margin) may have been cut. */
  readonly readTimeoutMs: number;
  /** Half the 200 answers wait up to this long, to widen the window in which refreshes could overlap. */
  readonly slowAnswerMaxMs: number;
  readonly random: () => number;
}

export interface BackendStats {
  calls: number;
  readonly callsByMode: Record<BackendMode, number>;
  /** Requests that arrived while another one was still open: each one is a single-flight violation. */
  beyondSingleFlight: number;
  maxOpen: number;
  /** The first few violations, described. */
  readonly violations: string[];
  /** 200s written whole, by tier. */
  readonly tokensServed: { pro: number; enterprise: number };
  /** 200s the agent should refuse: `iat` more than 60 s ahead of its clock (the clock was set back). */
  refusedByDesign: number;
  /** 200s written too close to the read timeout to know whether the agent read them (not counted as acceptable). */
  lateAnswers: number;
  /** Requests the agent gave up on before the backend answered (the hang mode, mostly). */
  cutByAgent: number;
  /** 401s written whole. */
  revocations: number;
}

const DAY_S = 86_400;
const TOKEN_LIFETIME_S = 30 * DAY_S;
/** A 200 finished within this margin of the read timeout may have lost the race with it. */
const LATE_MARGIN_MS = 250;
const VIOLATIONS_KEPT = 10;

/**
 * The license backend for the soak, on a random loopback port: its mode decides every answer —
 * a fresh Pro or Enterprise token (signed now, `iat` never decreasing, valid 30 days), 500, 503
 * with `Retry-After: 1`, a hang (never answers; the agent's read timeout cuts it), or 401 with the
 * backend's JSON error. It counts the requests open at once: the agent refreshes in single flight,
 * so a request arriving while another is open is a violation.
 */
export class FlappingBackend {
  readonly stats: BackendStats = {
    calls: 0,
    callsByMode: { pro: 0, enterprise: 0, http500: 0, http503: 0, hang: 0, revoked401: 0 },
    beyondSingleFlight: 0,
    maxOpen: 0,
    violations: [],
    tokensServed: { pro: 0, enterprise: 0 },
    refusedByDesign: 0,
    lateAnswers: 0,
    cutByAgent: 0,
    revocations: 0,
  };
  mode: BackendMode = 'pro';
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #open = new Map<number, { readonly mode: BackendMode; readonly arrivedAt: number }>();
  #lastIssuedAtS = 0;
  #stopped = false;

  private constructor(private readonly options: FlappingBackendOptions) {
    this.#server = createServer((req, res) => this.#onRequest(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: FlappingBackendOptions): Promise<FlappingBackend> {
    const backend = new FlappingBackend(options);
    backend.#server.listen(0, '127.0.0.1');
    await once(backend.#server, 'listening');
    return backend;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get openRequests(): number {
    return this.#open.size;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const { stats } = this;
    const id = (stats.calls += 1);
    const mode = this.mode;
    const arrivedAt = performance.now();
    stats.callsByMode[mode] += 1;
    if (this.#open.size > 0) {
      stats.beyondSingleFlight += 1;
      if (stats.violations.length < VIOLATIONS_KEPT) {
        const others = [...this.#open.entries()].map(([other, o]) => `#${other} (${o.mode}, open ${(arrivedAt - o.arrivedAt).toFixed(1)} ms)`);
        stats.violations.push(`backend call #${id} (${mode}) arrived while ${others.join(', ')} still open`);
      }
    }
    this.#open.set(id, { mode, arrivedAt });
    stats.maxOpen = Math.max(stats.maxOpen, this.#open.size);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.#open.delete(id);
      if (!res.writableFinished) stats.cutByAgent += 1;
    };
    res.once('finish', end);
    res.once('close', end);
    req.resume(); // the body (instance id, version) is not needed

    switch (mode) {
      case 'hang':
        return; // never answers: the agent's read timeout cuts it
      case 'http500':
        this.#json(res, 500, { error: 'internal_error', message: 'soak: backend failure' });
        return;
      case 'http503':
        this.#json(res, 503, { error: 'unavailable', message: 'soak: backend overloaded' }, { 'Retry-After': '1' });
        return;
      case 'revoked401':
        res.once('finish', () => {
          stats.revocations += 1;
          this.options.observer.revoked(performance.now());
        });
        this.#json(res, 401, { error: 'api_key_revoked', message: 'soak: the API key was revoked' });
        return;
      case 'pro':
      case 'enterprise': {
        const slow = this.options.random() < 0.5;
        const delayMs = slow ? Math.round(this.options.random() * this.options.slowAnswerMaxMs) : 0;
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          void this.#issue(res, mode, arrivedAt);
        }, delayMs);
        this.#timers.add(timer);
      }
    }
  }

  async #issue(res: ServerResponse, tier: 'pro' | 'enterprise', arrivedAt: number): Promise<void> {
    if (this.#stopped || res.destroyed) return;
    const issuedAtS = Math.max(this.#lastIssuedAtS, Math.floor(Date.now() / 1000));
    this.#lastIssuedAtS = issuedAtS;
    const expiresAtS = issuedAtS + TOKEN_LIFETIME_S;
    const jwt = await aLicenseToken(this.options.key, {
      tier,
      orgName: 'Soak Org',
      issuedAt: issuedAtS,
      expiresAt: expiresAtS,
      jti: `soak-${this.stats.calls}`,
    });
    if (this.#stopped || res.destroyed) return;
    // The agent judges the token by its clock a moment from now; a jump in between is rare (a jump
    // every few seconds, a millisecond's window) and would show as a lone finding, not a streak.
    const agentNowMs = this.options.observer.agentNowMs();
    const graceEndsAtMs = expiresAtS * 1000 + this.options.gracePeriodMs;
    const issuedInFuture = issuedAtS * 1000 > agentNowMs + CLOCK_TOLERANCE_MS;
    const usable = !issuedInFuture && agentNowMs <= graceEndsAtMs;
    res.once('finish', () => {
      this.stats.tokensServed[tier] += 1;
      const at = performance.now();
      if (issuedInFuture) {
        this.stats.refusedByDesign += 1;
        this.options.observer.note(`backend served ${tier} with iat ${new Date(issuedAtS * 1000).toISOString()} ahead of the agent's clock (refused by design)`);
      } else if (at - arrivedAt > this.options.readTimeoutMs - LATE_MARGIN_MS) {
        this.stats.lateAnswers += 1;
      } else if (usable) {
        this.options.observer.acceptable({ at, tier, graceEndsAtMs });
      }
    });
    this.#json(res, 200, { jwt, expires_in: TOKEN_LIFETIME_S, message: null });
  }

  #json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }
}
