/**
 * `npm run soak -- --minutes N`: the example host under load for N minutes (fractions allowed)
 * while the license backend flaps between 200 (Pro, Enterprise), 5xx, hangs and 401, forced
 * refreshes pile up and the wall clock jumps. Prints one line a minute and a final table; exits 1
 * when an invariant broke. Everything runs in this process, on loopback, and stops by itself.
 * Not a test (it runs for minutes), and not in CI.
 */
import { HIGH_WATER_CLOCK } from '../src/app/modules/core.module.js';
import { ContainerModule } from 'inversify';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { NodeTimers } from '../src/adapters/system/node-timers.js';
import { loadConfig } from '../src/app/config.js';
import { createLicenseAgent } from '../src/app/create-license-agent.js';
import type { HighWaterClock } from '../src/app/high-water-clock.js';
import { createHostApp } from '../src/app/host-server.js';
import type { LicenseAgent } from '../src/app/license-agent.js';
import { parseTier, type Tier } from '../src/domain/model/tier.js';
import type { LogFields, Logger } from '../src/ports/logger.port.js';
import { TYPES } from '../src/ports/types.js';
import { generateSigningKey, jwksOf, TEST_ISSUER } from '../test/support/signing-keys.js';
import { makeTempDir, removeTempDir } from '../test/support/temp-dir.js';
import { ADMIN_TOKEN } from './bench-support.js';
import { formatTable, verdict, type ReportRow } from './report.js';
import { BACKEND_MODES, FlappingBackend, type BackendMode } from './soak-backend.js';
import { formatOffset, OffsetWallClock, planJump, seededRandom, type JumpKind } from './soak-clock.js';
import { SoakLedger, type Episode, type SampleSource, type TierSample } from './soak-ledger.js';

// ---------------------------------------------------------------------------------------------
// Settings

const SETTINGS = {
  connections: 8,
  /** Allowed by Pro (1,000,000) and Enterprise (unlimited), refused (402) by Community (10,000). */
  proSizedRows: 500_000,
  /** One load request in this many goes to /healthz instead. */
  healthzEvery: 5,
  requestTimeoutMs: 5_000,
  refreshInterval: '2s',
  backendTimeout: '1s',
  adminRefreshMinInterval: '1s',
  /** Backend modes last this long (uniform), each different from the one before. */
  modeMs: [2_000, 6_000],
  modeWeights: { pro: 0.22, enterprise: 0.22, http500: 0.14, http503: 0.12, hang: 0.18, revoked401: 0.12 } satisfies Record<BackendMode, number>,
  /** The first mode lasts this long, so that the agent starts with a license. */
  firstModeMs: 3_000,
  slowAnswerMaxMs: 600,
  jumpEveryMs: [4_000, 9_000],
  forcedRefreshEveryMs: [2_000, 5_000],
  /** Share of forced refreshes sent as a burst of `forcedBurst` at once. */
  forcedBurstShare: 0.3,
  forcedBurst: 3,
  statusEveryMs: 2_000,
  probeEveryMs: 100,
  /** Between a token written by the backend and a sample that must see it (the agent verifies, then installs). */
  settleMs: 250,
  /** Warm-up: 10 % of the run, between 5 s and 60 s; memory is measured from its end. */
  warmUpShare: 0.1,
  warmUpMs: [5_000, 60_000],
  /** Growth from the end of warm-up to the end of the run. Heap is measured after a full GC. */
  maxHeapGrowthMb: 16,
  maxRssGrowthMb: 64,
  /** Runs at least this long must have exercised every scenario (coverage rows). */
  coverageMinMinutes: 2,
  /** Hard stop if cleanup hangs. */
  shutdownGraceMs: 30_000,
} as const;

const API_KEY = 'sk-soak-api-key-0123456789';
const MAX_REQUESTS_PER_CONNECTION = 50_000_000;
const EVENTS_KEPT = 40;

// ---------------------------------------------------------------------------------------------
// Small helpers

const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes: number) => bytes / 1_048_576;
const iso = (monotonicMs: number) => new Date(performance.timeOrigin + monotonicMs).toISOString();
const uniform = (random: () => number, [low, high]: readonly [number, number]) => low + (high - low) * random();
const clockTime = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

interface Args {
  readonly minutes: number;
  readonly seed: number;
  readonly connections: number;
}

function parseArgs(argv: readonly string[]): Args {
  let minutes = 10;
  let seed = Math.floor(Math.random() * 2 ** 31);
  let connections: number = SETTINGS.connections;
  for (let i = 0; i < argv.length; i += 1) {
    const [name, inline] = (argv[i] as string).split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (name === '--minutes') minutes = Number(value());
    else if (name === '--seed') seed = Number(value());
    else if (name === '--connections') connections = Number(value());
    else throw new Error(`unknown argument ${name} (usage: npm run soak -- --minutes N [--seed S] [--connections C])`);
  }
  if (!(Number.isFinite(minutes) && minutes > 0 && minutes <= 24 * 60)) throw new Error('--minutes must be a number of minutes, more than 0 and at most 1440 (fractions allowed)');
  if (!Number.isSafeInteger(seed)) throw new Error('--seed must be an integer');
  if (!(Number.isInteger(connections) && connections >= 1 && connections <= 64)) throw new Error('--connections must be an integer from 1 to 64');
  return { minutes, seed, connections };
}

/** A stop signal every loop waits on, so that the run ends on time rather than after a last pause. */
class Stopper {
  stopped = false;
  readonly #waiters = new Set<() => void>();

  stop(): void {
    this.stopped = true;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Resolves after `ms`, or at once when stopped. */
  pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#waiters.add(wake);
    });
  }
}

/** The soak's recent history, quoted next to any finding. */
class EventLog {
  readonly #lines: string[] = [];

  note(line: string): void {
    this.#lines.push(`${clockTime(performance.now() - startedAt)} ${line}`);
    if (this.#lines.length > EVENTS_KEPT) this.#lines.shift();
  }

  recent(): readonly string[] {
    return this.#lines.slice(-15);
  }
}

/** The agent's log, counted by level and message; warnings and errors also go to the event log. */
class CountingLogger implements Logger {
  readonly byLevel = { debug: 0, info: 0, warn: 0, error: 0 };
  readonly messages = new Map<string, number>();

  constructor(private readonly events: EventLog) {}

  debug(message: string): void {
    this.byLevel.debug += 1;
  }

  info(message: string, fields?: LogFields): void {
    this.#count('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.#count('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.#count('error', message, fields);
  }

  #count(level: 'info' | 'warn' | 'error', message: string, fields?: LogFields): void {
    this.byLevel[level] += 1;
    // One key per kind of message: numbers and instants vary from one line to the next.
    const key = `${level.toUpperCase()} ${message.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/\d+/g, 'N').slice(0, 140)}`;
    if (this.messages.has(key) || this.messages.size < 200) this.messages.set(key, (this.messages.get(key) ?? 0) + 1);
    if (level !== 'info' || /License (upgraded|downgraded|restored)/.test(message)) {
      const code = typeof fields?.code === 'string' ? ` [${fields.code}]` : '';
      this.events.note(`agent ${level.toUpperCase()}: ${message.slice(0, 160)}${code}`);
    }
  }
}

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | undefined;
}

function httpRequest(agent: http.Agent, url: string, method: 'GET' | 'POST', headers: Record<string, string> = {}): Promise<HttpAnswer | Error> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retryAfter: res.headers['retry-after'] }));
      res.on('error', (error) => resolve(error));
    });
    req.setTimeout(SETTINGS.requestTimeoutMs, () => req.destroy(new Error(`no answer within ${SETTINGS.requestTimeoutMs} ms`)));
    req.on('error', (error) => resolve(error));
    req.end();
  });
}

function tierOf(body: string): Tier | null {
  try {
    return parseTier((JSON.parse(body) as { tier?: unknown }).tier) ?? null;
  } catch {
    return null;
  }
}

class StatusCounts {
  readonly #counts = new Map<string, Map<string, number>>();

  add(route: string, outcome: string | number): void {
    let byOutcome = this.#counts.get(route);
    if (byOutcome === undefined) this.#counts.set(route, (byOutcome = new Map()));
    byOutcome.set(String(outcome), (byOutcome.get(String(outcome)) ?? 0) + 1);
  }

  get(route: string, outcome: string | number): number {
    return this.#counts.get(route)?.get(String(outcome)) ?? 0;
  }

  total(route?: string): number {
    let sum = 0;
    for (const [name, byOutcome] of this.#counts) if (route === undefined || name === route) for (const count of byOutcome.values()) sum += count;
    return sum;
  }

  describe(route: string): string {
    const byOutcome = this.#counts.get(route);
    if (byOutcome === undefined) return 'none';
    return [...byOutcome.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([outcome, count]) => `${outcome} x${fmt(count)}`)
      .join(', ');
  }
}

// ---------------------------------------------------------------------------------------------
// The run

const ROUTE = {
  query: 'GET /demo/query',
  healthz: 'GET /healthz',
  status: 'GET /admin/license',
  refresh: 'POST /admin/license/refresh',
} as const;

let startedAt = performance.now();

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const durationMs = Math.round(args.minutes * 60_000);
  const random = seededRandom(args.seed);
  const gc = (globalThis as { gc?: () => void }).gc;
  log(
    `soak: ${args.minutes} min, ${args.connections} connections, seed ${args.seed}${gc === undefined ? ' (no --expose-gc: heap measured without a full GC)' : ''}`,
  );

  const events = new EventLog();
  const logger = new CountingLogger(events);
  const dir = makeTempDir('license-agent-soak-');
  const wallClock = new OffsetWallClock();
  const ledger = new SoakLedger(SETTINGS.settleMs, () => events.recent());
  const statuses = new StatusCounts();
  const tiersSeen = { load: new Map<string, number>(), status: new Map<string, number>() };
  const hostFailures: string[] = [];
  let hostFailureCount = 0;
  const clockStats = { jumps: new Map<JumpKind, number>(), suspectSeen: 0, trustedSeen: 0, maxOffsetMs: 0, minOffsetMs: 0 };
  const refreshStats = { bursts: 0, refreshedTiers: new Map<string, number>(), maxRetryAfterS: 0, beyondMinInterval: 0, firstBeyond: [] as readonly string[] };
  const elOverall = monitorEventLoopDelay({ resolution: 10 });
  const elInterval = monitorEventLoopDelay({ resolution: 10 });
  elOverall.enable();
  elInterval.enable();

  const key = generateSigningKey('soak-key-1');
  writeFileSync(join(dir, 'trusted-keys.json'), JSON.stringify(jwksOf(key)));
  const env = {
    SOFTCLIENT4ES_API_KEY: API_KEY,
    SOFTCLIENT4ES_LICENSE_ISSUER: TEST_ISSUER,
    SOFTCLIENT4ES_LICENSE_PUBLIC_KEYS: join(dir, 'trusted-keys.json'),
    SOFTCLIENT4ES_LICENSE_CACHE_DIR: join(dir, 'cache'),
    SOFTCLIENT4ES_LICENSE_REFRESH_INTERVAL: SETTINGS.refreshInterval,
    SOFTCLIENT4ES_LICENSE_CONNECT_TIMEOUT: SETTINGS.backendTimeout,
    SOFTCLIENT4ES_LICENSE_READ_TIMEOUT: SETTINGS.backendTimeout,
    SOFTCLIENT4ES_ADMIN_TOKEN: ADMIN_TOKEN,
    SOFTCLIENT4ES_ADMIN_REFRESH_MIN_INTERVAL: SETTINGS.adminRefreshMinInterval,
    LOG_LEVEL: 'silent',
  };
  const settings = loadConfig(env, dir); // the backend's URL is not known yet; the rest is

  // The system module: the offset wall clock and Node's timers; the activation hook hands the soak
  // the agent's high-water clock, to judge tokens by the agent's own time.
  const captured: { clock: HighWaterClock | null } = { clock: null };
  const system = new ContainerModule(({ bind, onActivation }) => {
    bind(TYPES.WallClock).toConstantValue(wallClock);
    bind(TYPES.Timers).toConstantValue(new NodeTimers());
    onActivation(HIGH_WATER_CLOCK, (_context, clock) => {
      captured.clock = clock;
      return clock;
    });
  });
  const agentNowMs = () => (captured.clock ?? wallClock).now().getTime();

  // Made in the try below, stopped in its finally.
  let backendToStop: FlappingBackend | null = null;
  let agentToStop: LicenseAgent | null = null;
  let serverToClose: http.Server | null = null;
  let stopper: Stopper | null = null;
  let hardStop: NodeJS.Timeout | undefined;
  const hostAgent = new http.Agent({ keepAlive: true, maxSockets: args.connections + 4 });
  try {
    const backend = await FlappingBackend.start({
      key,
      observer: {
        agentNowMs,
        acceptable: (answer) => ledger.acceptable(answer),
        revoked: (at) => ledger.revoked(at),
        note: (line) => events.note(line),
      },
      gracePeriodMs: settings.gracePeriodMs,
      readTimeoutMs: settings.readTimeoutMs,
      slowAnswerMaxMs: SETTINGS.slowAnswerMaxMs,
      random,
    });
    backendToStop = backend;
    const config = loadConfig({ ...env, SOFTCLIENT4ES_LICENSE_URL: backend.url }, dir);
    const agent = await createLicenseAgent(config, { logger, modules: { system } });
    agentToStop = agent;
    if (captured.clock === null) throw new Error('the soak could not reach the agent clock');
    const agentClock = captured.clock;
    const server = http.createServer(createHostApp(agent, logger));
    serverToClose = server;
    startedAt = performance.now();
    await agent.start();
    const first = agent.current().license;
    if (first.tier !== 'pro') throw new Error(`the agent started with ${first.tier} from ${first.source}, expected Pro from the backend`);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    events.note(`agent ready (Pro), host on ${base}, backend on ${backend.url}`);

    const stop = (stopper = new Stopper());
    const runStartedAt = performance.now();
    const deadline = runStartedAt + durationMs;
    const running = () => !stop.stopped && performance.now() < deadline;
    const hostFailed = (what: string) => {
      hostFailureCount += 1;
      if (hostFailures.length < 10) hostFailures.push(`${iso(performance.now())} ${what}`);
      events.note(`HOST FAILURE ${what}`);
    };
    const sample = (source: SampleSource, sentAt: number, tier: Tier) => {
      const observedAt = performance.now();
      const s: TierSample = { source, sentAt, observedAt, tier, agentNowMs: agentNowMs() };
      const judged = ledger.record(s);
      if (judged === 'loss' || judged === 'tier_lag') events.note(`${judged.toUpperCase()} seen by ${source}: ${tier}`);
    };

    // Load: keep-alive closed loops, one request in flight per connection.
    const loadLoop = async (connection: number) => {
      for (let i = 0; i < MAX_REQUESTS_PER_CONNECTION && running(); i += 1) {
        const healthz = (i + connection) % SETTINGS.healthzEvery === 0;
        const route = healthz ? ROUTE.healthz : ROUTE.query;
        const sentAt = performance.now();
        const answer = await httpRequest(hostAgent, healthz ? `${base}/healthz` : `${base}/demo/query?rows=${SETTINGS.proSizedRows}`, 'GET');
        if (answer instanceof Error) {
          statuses.add(route, 'error');
          hostFailed(`${route}: ${answer.message}`);
          continue;
        }
        statuses.add(route, answer.status);
        const expected = healthz ? answer.status === 200 : answer.status === 200 || answer.status === 402 || answer.status === 429;
        if (!expected) hostFailed(`${route} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
        if (healthz) continue;
        const tier = tierOf(answer.body);
        if (tier !== null) {
          tiersSeen.load.set(`${answer.status} ${tier}`, (tiersSeen.load.get(`${answer.status} ${tier}`) ?? 0) + 1);
          sample('load', sentAt, tier);
        }
      }
    };

    // The backend flips between modes.
    const flipModes = async () => {
      await stop.pause(SETTINGS.firstModeMs);
      for (let i = 0; i < 1_000_000 && running(); i += 1) {
        const choices = BACKEND_MODES.filter((mode) => mode !== backend.mode);
        const total = choices.reduce((sum, mode) => sum + SETTINGS.modeWeights[mode], 0);
        let pick = random() * total;
        const next = choices.find((mode) => (pick -= SETTINGS.modeWeights[mode]) < 0) ?? (choices[0] as BackendMode);
        backend.mode = next;
        events.note(`backend mode -> ${next}`);
        await stop.pause(uniform(random, SETTINGS.modeMs));
      }
    };

    // The wall clock jumps.
    const jumpClock = async () => {
      for (let i = 0; i < 1_000_000 && running(); i += 1) {
        await stop.pause(uniform(random, SETTINGS.jumpEveryMs));
        if (!running()) break;
        const jump = planJump(random, wallClock.offsetMs, wallClock.highestOffsetMs);
        wallClock.jumpTo(jump.toOffsetMs);
        clockStats.jumps.set(jump.kind, (clockStats.jumps.get(jump.kind) ?? 0) + 1);
        clockStats.maxOffsetMs = Math.max(clockStats.maxOffsetMs, jump.toOffsetMs);
        clockStats.minOffsetMs = Math.min(clockStats.minOffsetMs, jump.toOffsetMs);
        events.note(`clock ${jump.kind} -> ${formatOffset(jump.toOffsetMs)} (highest ${formatOffset(wallClock.highestOffsetMs)})`);
      }
    };

    // Forced refreshes, sometimes several at once.
    const minIntervalS = Math.ceil(config.adminRefreshMinIntervalMs / 1000);
    const forceRefreshes = async () => {
      const refresh = async () => {
        const answer = await httpRequest(hostAgent, `${base}/admin/license/refresh`, 'POST', { Authorization: `Bearer ${ADMIN_TOKEN}` });
        if (answer instanceof Error) {
          statuses.add(ROUTE.refresh, 'error');
          hostFailed(`${ROUTE.refresh}: ${answer.message}`);
          return;
        }
        statuses.add(ROUTE.refresh, answer.status);
        // 502: the refresh ran and the backend failed (documented); 429: too soon after the last one.
        if (![200, 429, 502].includes(answer.status)) hostFailed(`${ROUTE.refresh} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
        if (answer.status === 429) {
          // The contract: at most one forced refresh per minimum interval after the last one finished.
          const seconds = Number(answer.retryAfter);
          refreshStats.maxRetryAfterS = Math.max(refreshStats.maxRetryAfterS, seconds);
          if (!(seconds <= minIntervalS)) {
            refreshStats.beyondMinInterval += 1;
            events.note(`forced refresh 429 with Retry-After ${answer.retryAfter} s (minimum interval ${minIntervalS} s)`);
            if (refreshStats.firstBeyond.length === 0) refreshStats.firstBeyond = events.recent().slice(-10);
          }
        }
        if (answer.status === 200) {
          const tier = (JSON.parse(answer.body) as { new_tier?: string }).new_tier ?? '?';
          refreshStats.refreshedTiers.set(tier, (refreshStats.refreshedTiers.get(tier) ?? 0) + 1);
        }
      };
      for (let i = 0; i < 1_000_000 && running(); i += 1) {
        await stop.pause(uniform(random, SETTINGS.forcedRefreshEveryMs));
        if (!running()) break;
        const burst = random() < SETTINGS.forcedBurstShare;
        if (burst) refreshStats.bursts += 1;
        events.note(burst ? `forced refresh x${SETTINGS.forcedBurst}` : 'forced refresh');
        await Promise.all(Array.from({ length: burst ? SETTINGS.forcedBurst : 1 }, refresh));
      }
    };

    // The admin status: the tier and whether the clock is suspect.
    const pollStatus = async () => {
      let wasSuspect = false;
      for (let i = 0; i < 1_000_000 && running(); i += 1) {
        const sentAt = performance.now();
        const answer = await httpRequest(hostAgent, `${base}/admin/license`, 'GET', { Authorization: `Bearer ${ADMIN_TOKEN}` });
        if (answer instanceof Error) {
          statuses.add(ROUTE.status, 'error');
          hostFailed(`${ROUTE.status}: ${answer.message}`);
        } else {
          statuses.add(ROUTE.status, answer.status);
          if (answer.status !== 200) hostFailed(`${ROUTE.status} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
          else {
            const body = JSON.parse(answer.body) as { tier?: string; clock?: { suspect?: boolean } };
            const suspect = body.clock?.suspect === true;
            if (suspect) clockStats.suspectSeen += 1;
            else clockStats.trustedSeen += 1;
            if (suspect !== wasSuspect) events.note(`status: clock ${suspect ? 'suspect' : 'trusted again'}`);
            wasSuspect = suspect;
            const tier = parseTier(body.tier);
            if (tier !== undefined) {
              tiersSeen.status.set(tier, (tiersSeen.status.get(tier) ?? 0) + 1);
              sample('status', sentAt, tier);
            }
          }
        }
        await stop.pause(SETTINGS.statusEveryMs);
      }
    };

    // The tier in force, read in-process.
    const probe = async () => {
      for (let i = 0; i < 100_000_000 && running(); i += 1) {
        sample('probe', performance.now(), agent.current().license.tier);
        await stop.pause(SETTINGS.probeEveryMs);
      }
    };

    // Memory after warm-up, and one line a minute (every 10 s in runs under 2 minutes).
    const warmUpMs = Math.min(SETTINGS.warmUpMs[1], Math.max(SETTINGS.warmUpMs[0], durationMs * SETTINGS.warmUpShare));
    let baseline: NodeJS.MemoryUsage | null = null;
    const report = async () => {
      const everyMs = args.minutes < SETTINGS.coverageMinMinutes ? 10_000 : 60_000;
      let nextReportAt = runStartedAt + everyMs;
      const warmUpEndsAt = runStartedAt + warmUpMs;
      for (let i = 0; i < 1_000_000 && running(); i += 1) {
        const now = performance.now();
        if (baseline === null && now >= warmUpEndsAt) {
          gc?.();
          baseline = process.memoryUsage();
          elOverall.reset();
          events.note(`warm-up over: rss ${fmt(mb(baseline.rss), 1)} MB, heap ${fmt(mb(baseline.heapUsed), 1)} MB`);
        }
        if (now >= nextReportAt) {
          nextReportAt += everyMs;
          const memory = process.memoryUsage();
          const c = ledger.counts;
          log(
            `[${clockTime(now - runStartedAt)}] requests ${fmt(statuses.total(ROUTE.query) + statuses.total(ROUTE.healthz))} ` +
              `(query: ${statuses.describe(ROUTE.query)}) | losses ${c.loss} (after 401: ${c.loss_after_401}), tier lag ${c.tier_lag} | ` +
              `host 5xx/errors ${hostFailureCount} | backend ${backend.stats.calls} calls, beyond single-flight ${backend.stats.beyondSingleFlight} | ` +
              `forced ${statuses.describe(ROUTE.refresh)} | rss ${fmt(mb(memory.rss), 1)} MB, heap ${fmt(mb(memory.heapUsed), 1)} MB | ` +
              `loop p99 ${fmt(elInterval.percentile(99) / 1e6, 1)} ms | clock ${formatOffset(wallClock.offsetMs)}${agentClock.suspect ? ' suspect' : ''} | backend ${backend.mode}`,
          );
          elInterval.reset();
        }
        await stop.pause(Math.min(1_000, Math.max(0, deadline - performance.now())));
      }
    };

    const loops = [
      ...Array.from({ length: args.connections }, (_, connection) => loadLoop(connection)),
      flipModes(),
      jumpClock(),
      forceRefreshes(),
      pollStatus(),
      probe(),
      report(),
    ];
    const ended = stop.pause(durationMs).then(() => stop.stop());
    const onSignal = () => {
      log('soak: interrupted, stopping');
      stop.stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await ended;
    hardStop = setTimeout(() => {
      log(`soak: still not stopped ${SETTINGS.shutdownGraceMs / 1000} s after the end; exiting`);
      removeTempDir(dir);
      process.exit(2);
    }, SETTINGS.shutdownGraceMs);
    await Promise.all(loops);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const ranMs = performance.now() - runStartedAt;

    gc?.();
    const final = process.memoryUsage();
    const warm = (baseline ?? final) as NodeJS.MemoryUsage;
    const elP99Ms = elOverall.percentile(99) / 1e6;
    const elMaxMs = elOverall.max / 1e6;

    // ---- The table
    const rows: ReportRow[] = [];
    const c = ledger.counts;
    const requests = statuses.total(ROUTE.query) + statuses.total(ROUTE.healthz);
    const coverage = args.minutes >= SETTINGS.coverageMinMinutes;
    const covered = (ok: boolean) => (coverage ? verdict(ok) : 'info');
    const stats = backend.stats;
    const heapGrowth = mb(final.heapUsed - warm.heapUsed);
    const rssGrowth = mb(final.rss - warm.rss);
    const episodes = (kind: Episode['verdict']) => ledger.episodeCount[kind];
    rows.push(
      { section: 'load', measure: 'Requests (closed loop)', result: `${fmt(requests)} in ${fmt(ranMs / 1000, 0)} s (${fmt(requests / (ranMs / 1000), 0)}/s) over ${args.connections} connections`, target: '', verdict: 'info' },
      { section: 'load', measure: `  ${ROUTE.query}?rows=${fmt(SETTINGS.proSizedRows)}`, result: statuses.describe(ROUTE.query), target: '', verdict: 'info' },
      { section: 'load', measure: '  tiers in those answers', result: describeMap(tiersSeen.load), target: 'Pro and Enterprise', verdict: covered(tiersSeen.load.has('200 pro') && tiersSeen.load.has('200 enterprise')) },
      { section: 'load', measure: `  ${ROUTE.healthz}`, result: statuses.describe(ROUTE.healthz), target: '', verdict: 'info' },
      { section: 'load', measure: `  ${ROUTE.status} (every ${SETTINGS.statusEveryMs / 1000} s)`, result: `${statuses.describe(ROUTE.status)}; tiers: ${describeMap(tiersSeen.status)}`, target: '', verdict: 'info' },
      {
        section: 'load',
        measure: `  ${ROUTE.refresh}`,
        result: `${statuses.describe(ROUTE.refresh)} (${refreshStats.bursts} bursts of ${SETTINGS.forcedBurst}); 200s: ${describeMap(refreshStats.refreshedTiers)}`,
        target: '200, 502 (backend failed), 429',
        verdict: covered(statuses.get(ROUTE.refresh, 200) > 0 && statuses.get(ROUTE.refresh, 502) > 0),
      },
      {
        section: 'inv',
        measure: 'Valid-license losses',
        result: `${c.loss} samples in ${episodes('loss')} episodes (of ${fmt(c.ok + c.loss + c.loss_after_401 + c.tier_lag + c.tier_lag_after_401 + c.no_license_due)} samples: load ${fmt(ledger.samplesBySource.load)}, probe ${fmt(ledger.samplesBySource.probe)}, status ${fmt(ledger.samplesBySource.status)})`,
        target: '0',
        verdict: verdict(c.loss === 0),
      },
      { section: 'inv', measure: '  Community after a 401 (legitimate)', result: `${c.loss_after_401} samples in ${episodes('loss_after_401')} episodes`, target: '', verdict: 'info' },
      {
        section: 'inv',
        measure: 'Tier lag (paid tier other than the last served)',
        result: `${c.tier_lag} samples in ${episodes('tier_lag')} episodes; after a 401: ${c.tier_lag_after_401}`,
        target: '0',
        verdict: verdict(c.tier_lag === 0),
      },
      {
        section: 'inv',
        measure: 'Forced-refresh 429s beyond the minimum interval',
        result: `${refreshStats.beyondMinInterval} of ${statuses.get(ROUTE.refresh, 429)} 429s (longest Retry-After ${refreshStats.maxRetryAfterS} s)`,
        target: `Retry-After <= ${minIntervalS} s`,
        verdict: verdict(refreshStats.beyondMinInterval === 0),
      },
      { section: 'inv', measure: 'Enforcement 5xx, unexpected statuses, errors', result: `${hostFailureCount}`, target: '0', verdict: verdict(hostFailureCount === 0 && requests > 0) },
      {
        section: 'inv',
        measure: 'Backend calls beyond single-flight',
        result: `${stats.beyondSingleFlight} of ${fmt(stats.calls)} calls (most open at once: ${stats.maxOpen})`,
        target: '0',
        verdict: verdict(stats.beyondSingleFlight === 0),
      },
      {
        section: 'inv',
        measure: 'Heap growth after warm-up (after full GC)',
        result: `${signedMb(heapGrowth)} MB (${fmt(mb(warm.heapUsed), 1)} -> ${fmt(mb(final.heapUsed), 1)} MB)${gc === undefined ? ' no GC available' : ''}`,
        target: `<= ${SETTINGS.maxHeapGrowthMb} MB`,
        verdict: verdict(heapGrowth <= SETTINGS.maxHeapGrowthMb),
      },
      {
        section: 'inv',
        measure: 'RSS growth after warm-up',
        result: `${signedMb(rssGrowth)} MB (${fmt(mb(warm.rss), 1)} -> ${fmt(mb(final.rss), 1)} MB; warm-up ${fmt(warmUpMs / 1000, 0)} s)`,
        target: `<= ${SETTINGS.maxRssGrowthMb} MB`,
        verdict: verdict(rssGrowth <= SETTINGS.maxRssGrowthMb),
      },
      { section: 'inv', measure: 'Event-loop delay after warm-up', result: `p99 ${fmt(elP99Ms, 1)} ms, max ${fmt(elMaxMs, 1)} ms`, target: '', verdict: 'info' },
      {
        section: 'back',
        measure: 'Backend calls by mode',
        result: BACKEND_MODES.map((mode) => `${mode} ${stats.callsByMode[mode]}`).join(', '),
        target: 'every mode',
        verdict: covered(BACKEND_MODES.every((mode) => stats.callsByMode[mode] > 0)),
      },
      {
        section: 'back',
        measure: 'Tokens served, 401s, hangs cut by the agent',
        result: `Pro ${stats.tokensServed.pro}, Enterprise ${stats.tokensServed.enterprise}; 401 ${stats.revocations}; cut ${stats.cutByAgent}; late ${stats.lateAnswers}; iat ahead of the agent clock ${stats.refusedByDesign}`,
        target: '',
        verdict: 'info',
      },
      {
        section: 'clock',
        measure: 'Wall-clock jumps',
        result: `${[...clockStats.jumps.entries()].map(([kind, count]) => `${kind} ${count}`).join(', ') || 'none'}; offsets ${formatOffset(clockStats.minOffsetMs)} .. ${formatOffset(clockStats.maxOffsetMs)}`,
        target: '',
        verdict: 'info',
      },
      {
        section: 'clock',
        measure: 'Status polls with clock.suspect',
        result: `${clockStats.suspectSeen} suspect, ${clockStats.trustedSeen} trusted`,
        target: 'both',
        verdict: covered(clockStats.suspectSeen > 0 && clockStats.trustedSeen > 0),
      },
      { section: 'agent', measure: 'Agent log lines', result: `error ${logger.byLevel.error}, warn ${logger.byLevel.warn}, info ${logger.byLevel.info}`, target: '', verdict: 'info' },
    );
    process.stdout.write(`\n${formatTable(rows)}\n`);
    process.stdout.write(`\n${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; seed ${args.seed}; ran ${fmt(ranMs / 60_000, 2)} min\n`);

    const top = [...logger.messages.entries()].filter(([message]) => !message.startsWith('INFO')).sort((a, b) => b[1] - a[1]).slice(0, 12);
    if (top.length > 0) process.stdout.write(`\nAgent warnings and errors, by kind:\n${top.map(([message, count]) => `  ${String(count).padStart(6)}  ${message}`).join('\n')}\n`);
    if (hostFailures.length > 0) process.stdout.write(`\nHost failures (first ${hostFailures.length} of ${hostFailureCount}):\n${hostFailures.map((line) => `  ${line}`).join('\n')}\n`);
    if (stats.violations.length > 0) process.stdout.write(`\nSingle-flight violations (first ${stats.violations.length}):\n${stats.violations.map((line) => `  ${line}`).join('\n')}\n`);
    if (refreshStats.firstBeyond.length > 0) {
      process.stdout.write(`\nFirst forced-refresh 429 beyond the minimum interval; before it:\n${refreshStats.firstBeyond.map((line) => `    ${line}`).join('\n')}\n`);
    }
    for (const episode of ledger.episodes) {
      process.stdout.write(
        `\n${episode.verdict} from ${iso(episode.startedAt)} to ${iso(episode.endedAt)} (${fmt(episode.endedAt - episode.startedAt, 0)} ms, ${episode.samples} samples: ` +
          `load ${episode.sources.load}, probe ${episode.sources.probe}, status ${episode.sources.status}); before it:\n${episode.context.map((line) => `    ${line}`).join('\n')}\n`,
      );
    }
    return rows.some((row) => row.verdict === 'FAIL') ? 1 : 0;
  } finally {
    stopper?.stop();
    await agentToStop?.stop();
    if (serverToClose !== null) {
      const listening = serverToClose;
      listening.closeAllConnections();
      await new Promise<void>((resolve) => (listening.listening ? listening.close(() => resolve()) : resolve()));
    }
    hostAgent.destroy();
    await backendToStop?.stop();
    elOverall.disable();
    elInterval.disable();
    removeTempDir(dir);
    clearTimeout(hardStop);
  }
}

function describeMap(map: ReadonlyMap<string, number>): string {
  return map.size === 0 ? 'none' : [...map.entries()].map(([key, count]) => `${key} x${fmt(count)}`).join(', ');
}

function signedMb(value: number): string {
  return `${value >= 0 ? '+' : ''}${fmt(value, 1)}`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
