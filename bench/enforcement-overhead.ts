import { createHistogram, performance } from 'node:perf_hooks';
import { bootstrapInterval, median, percentileMs } from './bench-support.js';
import { DemoHost } from './demo-host.client.js';
import type { DemoHostVariant } from './demo-host.protocol.js';
import { busyCores, readMachineCpu } from './machine-load.js';
import { LoadPool } from './sliced-load.js';

export interface OverheadSettings {
  readonly rounds: number;
  readonly connections: number;
  /** How long each app is driven in a round. */
  readonly sliceMs: number;
  readonly warmUpMs: number;
  /** How long all apps are driven at once, their requests interleaved, to time their handling. */
  readonly interleavedMs: number;
  /** `?rows=` sent on every request: within the quota of the license in force. */
  readonly rows: number;
}

/**
 * The apps measured, all in one demo-host process: the route without enforcement; the same route
 * behind `requireQuota`; behind `requireQuota` and an app-wide `enforce()`; behind `requireQuota`
 * and an app-wide no-op (what Express charges for any app-wide layer); and a twin of the first —
 * an A/A control whose difference from it is pure noise.
 */
export const APPS = ['unenforced', 'enforced', 'enforcedAppWide', 'noOpAppWide', 'control'] as const;
export type AppName = (typeof APPS)[number];

const VARIANT_OF: Readonly<Record<AppName, DemoHostVariant>> = {
  unenforced: 'unenforced',
  enforced: 'enforced',
  enforcedAppWide: 'enforced-app-wide',
  noOpAppWide: 'no-op-app-wide',
  control: 'unenforced',
};

/** A demo-host child serving every app, on `cpu` alone when given. */
export const startOverheadHost = (cpu: number | null) => DemoHost.start(APPS.map((name) => VARIANT_OF[name]), cpu);

export const appUrl = (host: DemoHost, name: AppName) => host.urls[APPS.indexOf(name)] as string;

export interface AppSummary {
  /** 2xx req/s over all the app's slices. */
  readonly requestsPerSecond: number;
  readonly perRound: readonly number[];
  readonly p99PerRoundMs: readonly number[];
  /** Over all rounds' 2xx responses, microsecond resolution. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU time per 2xx response (the other apps are idle meanwhile). */
  readonly serverCpuMicrosPerRequest: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Synchronous handling per request, the apps' requests interleaved. */
  readonly handlingMeanMicros: number;
  readonly handlingMedianMicros: number;
}

/** One app against the unenforced one. */
export interface Comparison {
  /** App over baseline req/s, for each round's slices (back to back). */
  readonly roundRatios: readonly number[];
  /** The median of `roundRatios`: robust to a burst of outside load hitting one slice. */
  readonly throughputRatio: number;
  /** 95 % bootstrap interval of that median. */
  readonly throughputRatioInterval: readonly [number, number];
  readonly throughputRatioOfTotals: number;
  /** Baseline over app server CPU per request: the throughput ratio a CPU-bound server would show. */
  readonly cpuCostRatio: number;
  readonly addedCpuMicrosPerRequest: number;
  /** Added median handling time per request, measured with the apps' requests interleaved. */
  readonly addedHandlingMicros: number;
  /**
   * The throughput ratio that added handling time implies for a CPU-bound server: baseline CPU per
   * request over that plus the added handling. Far less noisy than the measured ratio, as
   * interleaving cancels the machine's drift, but blind to garbage collection: a collection pauses
   * whichever app's request fills the young generation, whichever app allocated more, so it is
   * left out (the median) rather than handed out at random (the mean).
   */
  readonly impliedThroughputRatio: number;
  /** App minus baseline p99, for each round. */
  readonly addedP99PerRoundMs: readonly number[];
  /** The median of `addedP99PerRoundMs`. */
  readonly addedP99Ms: number;
  readonly addedP99PooledMs: number;
  readonly addedP50PooledMs: number;
}

export interface OverheadResult {
  readonly apps: Readonly<Record<AppName, AppSummary>>;
  readonly enforced: Comparison;
  readonly enforcedAppWide: Comparison;
  readonly noOpAppWide: Comparison;
  /** The A/A control: how far apart two identical apps measure on this machine. */
  readonly control: Comparison;
  /** Average cores busy with other processes while measuring (null off Linux). */
  readonly otherProcessesCores: number | null;
}

/**
 * Slices of load on each app in turn (the measured throughput), then all apps at once (their
 * handling times), each compared with the bare route.
 */
export async function measureEnforcementOverhead(host: DemoHost, settings: OverheadSettings): Promise<OverheadResult> {
  const pools = new Map<AppName, LoadPool>();
  try {
    for (const name of APPS) pools.set(name, await LoadPool.open(`${appUrl(host, name)}?rows=${settings.rows}`, settings.connections));
    for (const pool of pools.values()) await pool.run(settings.warmUpMs);
    const { samples, otherProcessesCores } = await runSlices(host, pools, settings);
    const handling = await timeHandling(host, pools, settings.interleavedMs);

    const summarize = (name: AppName): AppSummary => {
      const sample = samples[name];
      const times = handling[APPS.indexOf(name)];
      if (times === undefined || times.count === 0) throw new Error(`no handling times for ${name}`);
      return {
        requestsPerSecond: sample.ok / (sample.elapsedMs / 1000),
        perRound: sample.rps,
        p99PerRoundMs: sample.p99,
        p50Ms: percentileMs(sample.latencies, 50),
        p99Ms: percentileMs(sample.latencies, 99),
        serverCpuMicrosPerRequest: sample.cpuMicros / sample.ok,
        non2xx: sample.non2xx,
        errors: sample.errors,
        handlingMeanMicros: times.meanNanos / 1000,
        handlingMedianMicros: times.medianNanos / 1000,
      };
    };
    const apps = Object.fromEntries(APPS.map((name) => [name, summarize(name)])) as Record<AppName, AppSummary>;
    return {
      apps,
      enforced: compare(apps.enforced, apps.unenforced),
      enforcedAppWide: compare(apps.enforcedAppWide, apps.unenforced),
      noOpAppWide: compare(apps.noOpAppWide, apps.unenforced),
      control: compare(apps.control, apps.unenforced),
      otherProcessesCores,
    };
  } finally {
    for (const pool of pools.values()) pool.close();
  }
}

const newSample = () => ({ rps: [] as number[], p99: [] as number[], latencies: createHistogram(), cpuMicros: 0, ok: 0, elapsedMs: 0, non2xx: 0, errors: 0 });
type Sample = ReturnType<typeof newSample>;

/**
 * Many short slices of closed-loop load on each app in turn, the order rotated every round
 * (U E A N C, E A N C U, …): every app takes every place in a round equally often and never runs
 * twice in a row, so that drift — a warming JIT, a throttled CPU, a neighbour's build — weighs on
 * all of them alike, and a round's apps are compared under the same conditions. (Reversing the
 * order every other round instead left the A/A twin 2–5 % behind the app it is compared with.)
 */
async function runSlices(host: DemoHost, pools: ReadonlyMap<AppName, LoadPool>, settings: OverheadSettings) {
  const samples = Object.fromEntries(APPS.map((name) => [name, newSample()])) as Record<AppName, Sample>;
  const machineBefore = readMachineCpu();
  const ownCpuBefore = process.cpuUsage();
  const serverCpuBefore = await host.cpuMicros();
  const startedAt = performance.now();
  for (let round = 0; round < settings.rounds; round += 1) {
    for (const name of rotated(APPS, round)) {
      const sample = samples[name];
      const cpuBefore = await host.cpuMicros();
      const slice = await (pools.get(name) as LoadPool).run(settings.sliceMs);
      sample.cpuMicros += (await host.cpuMicros()) - cpuBefore;
      sample.rps.push(slice.ok / (slice.elapsedMs / 1000));
      sample.p99.push(percentileMs(slice.latencies, 99));
      sample.latencies.add(slice.latencies);
      sample.ok += slice.ok;
      sample.elapsedMs += slice.elapsedMs;
      sample.non2xx += slice.non2xx;
      sample.errors += slice.errors;
    }
  }
  const wallMicros = (performance.now() - startedAt) * 1000;
  const serverCpu = (await host.cpuMicros()) - serverCpuBefore;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const machineAfter = readMachineCpu();
  const ourCores = (ownCpu.user + ownCpu.system + serverCpu) / wallMicros;
  const otherProcessesCores =
    machineBefore === null || machineAfter === null ? null : Math.max(0, busyCores(machineBefore, machineAfter) - ourCores);
  return { samples, otherProcessesCores };
}

/** Loads all apps at once, their requests interleaved, and reads each app's handling times. */
async function timeHandling(host: DemoHost, pools: ReadonlyMap<AppName, LoadPool>, ms: number) {
  await host.handlingTimes(); // restarts the counters
  await Promise.all([...pools.values()].map((pool) => pool.run(ms)));
  return host.handlingTimes();
}

/** `items` rotated left by `by`: U E A N C, E A N C U, A N C U E, … */
const rotated = <T>(items: readonly T[], by: number): T[] => items.map((_, index) => items[(index + by) % items.length] as T);

function compare(app: AppSummary, baseline: AppSummary): Comparison {
  const roundRatios = app.perRound.map((rps, round) => rps / (baseline.perRound[round] as number));
  const addedP99PerRoundMs = app.p99PerRoundMs.map((p99, round) => p99 - (baseline.p99PerRoundMs[round] as number));
  const addedHandlingMicros = app.handlingMedianMicros - baseline.handlingMedianMicros;
  return {
    roundRatios,
    throughputRatio: median(roundRatios),
    throughputRatioInterval: bootstrapInterval(roundRatios, median),
    throughputRatioOfTotals: app.requestsPerSecond / baseline.requestsPerSecond,
    cpuCostRatio: baseline.serverCpuMicrosPerRequest / app.serverCpuMicrosPerRequest,
    addedCpuMicrosPerRequest: app.serverCpuMicrosPerRequest - baseline.serverCpuMicrosPerRequest,
    addedHandlingMicros,
    impliedThroughputRatio: baseline.serverCpuMicrosPerRequest / (baseline.serverCpuMicrosPerRequest + addedHandlingMicros),
    addedP99PerRoundMs,
    addedP99Ms: median(addedP99PerRoundMs),
    addedP99PooledMs: app.p99Ms - baseline.p99Ms,
    addedP50PooledMs: app.p50Ms - baseline.p50Ms,
  };
}
