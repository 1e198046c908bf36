import { createHistogram, performance } from 'node:perf_hooks';
import { bootstrapInterval, median, percentileMs } from './bench-support.js';
import type { DemoHost } from './demo-host.client.js';
import { busyCores, readMachineCpu } from './machine-load.js';
import { LoadPool } from './sliced-load.js';

export interface OverheadSettings {
  readonly rounds: number;
  readonly connections: number;
  /** How long each app is driven in a round. */
  readonly sliceMs: number;
  readonly warmUpMs: number;
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
 * Many short slices of closed-loop load on each app in turn, the order reversed every other round
 * (U E A N C, C N A E U, …), so that drift — a warming JIT, a throttled CPU, a neighbour's build —
 * weighs on all of them alike, and a round's apps are compared under the same conditions.
 */
export async function measureEnforcementOverhead(
  host: DemoHost,
  urls: Readonly<Record<AppName, string>>,
  settings: OverheadSettings,
): Promise<OverheadResult> {
  const pools = new Map<AppName, LoadPool>();
  try {
    for (const name of APPS) pools.set(name, await LoadPool.open(`${urls[name]}?rows=${settings.rows}`, settings.connections));
    const pool = (name: AppName) => pools.get(name) as LoadPool;
    for (const name of APPS) await pool(name).run(settings.warmUpMs);

    const newSample = () => ({ rps: [] as number[], p99: [] as number[], latencies: createHistogram(), cpuMicros: 0, ok: 0, elapsedMs: 0, non2xx: 0, errors: 0 });
    const samples = Object.fromEntries(APPS.map((name) => [name, newSample()])) as Record<AppName, ReturnType<typeof newSample>>;
    const machineBefore = readMachineCpu();
    const ownCpuBefore = process.cpuUsage();
    const serverCpuBefore = await host.cpuMicros();
    const startedAt = performance.now();
    for (let round = 0; round < settings.rounds; round += 1) {
      for (const name of round % 2 === 0 ? APPS : [...APPS].reverse()) {
        const sample = samples[name];
        const cpuBefore = await host.cpuMicros();
        const slice = await pool(name).run(settings.sliceMs);
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

    const summarize = (name: AppName): AppSummary => {
      const sample = samples[name];
      return {
        requestsPerSecond: sample.ok / (sample.elapsedMs / 1000),
        perRound: sample.rps,
        p99PerRoundMs: sample.p99,
        p50Ms: percentileMs(sample.latencies, 50),
        p99Ms: percentileMs(sample.latencies, 99),
        serverCpuMicrosPerRequest: sample.cpuMicros / sample.ok,
        non2xx: sample.non2xx,
        errors: sample.errors,
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

function compare(app: AppSummary, baseline: AppSummary): Comparison {
  const roundRatios = app.perRound.map((rps, round) => rps / (baseline.perRound[round] as number));
  const addedP99PerRoundMs = app.p99PerRoundMs.map((p99, round) => p99 - (baseline.p99PerRoundMs[round] as number));
  return {
    roundRatios,
    throughputRatio: median(roundRatios),
    throughputRatioInterval: bootstrapInterval(roundRatios, median),
    throughputRatioOfTotals: app.requestsPerSecond / baseline.requestsPerSecond,
    cpuCostRatio: baseline.serverCpuMicrosPerRequest / app.serverCpuMicrosPerRequest,
    addedCpuMicrosPerRequest: app.serverCpuMicrosPerRequest - baseline.serverCpuMicrosPerRequest,
    addedP99PerRoundMs,
    addedP99Ms: median(addedP99PerRoundMs),
    addedP99PooledMs: app.p99Ms - baseline.p99Ms,
    addedP50PooledMs: app.p50Ms - baseline.p50Ms,
  };
}
