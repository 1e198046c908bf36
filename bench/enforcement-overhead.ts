import { createHistogram, performance } from 'node:perf_hooks';
import { mean, median } from './bench-support.js';
import type { DemoHost } from './demo-host.client.js';
import { percentileMs, runLoad, type LoadOptions } from './load.js';
import { busyCores, readMachineCpu } from './machine-load.js';

export interface OverheadSettings {
  readonly rounds: number;
  readonly connections: number;
  readonly runSeconds: number;
  readonly warmUpSeconds: number;
  /** `?rows=` sent on every request: within the quota of the license in force. */
  readonly rows: number;
}

/**
 * The apps measured, all in one demo-host process: the route without enforcement, the same route
 * behind it, and a twin of the first — an A/A control whose difference from it is pure noise.
 */
export interface OverheadApps {
  readonly host: DemoHost;
  readonly unenforcedUrl: string;
  readonly enforcedUrl: string;
  readonly controlUrl: string;
}

type AppName = 'unenforced' | 'enforced' | 'control';

export interface AppSummary {
  /** 2xx req/s, mean over the rounds. */
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
  /** App over baseline req/s, for each round's runs (back to back). */
  readonly roundRatios: readonly number[];
  /** The median of `roundRatios`: robust to a burst of outside load hitting one run. */
  readonly throughputRatio: number;
  readonly throughputRatioOfMeans: number;
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
  /** The A/A control: how far apart two identical apps measure on this machine. */
  readonly control: Comparison;
  /** Average cores busy with other processes while measuring (null off Linux). */
  readonly otherProcessesCores: number | null;
}

/**
 * Short runs of each app in turn, the order reversed every other round (U E C, C E U, …), so that
 * drift — a warming JIT, a throttled CPU, a neighbour's build — weighs on all of them alike.
 */
export async function measureEnforcementOverhead(apps: OverheadApps, settings: OverheadSettings): Promise<OverheadResult> {
  const names: AppName[] = ['unenforced', 'enforced', 'control'];
  const baseUrl: Record<AppName, string> = { unenforced: apps.unenforcedUrl, enforced: apps.enforcedUrl, control: apps.controlUrl };
  const url = (name: AppName) => `${baseUrl[name]}?rows=${settings.rows}`;
  const load: LoadOptions = { connections: settings.connections, durationSeconds: settings.runSeconds };
  for (const name of names) await runLoad(url(name), { connections: settings.connections, durationSeconds: settings.warmUpSeconds });

  const newSample = () => ({ rps: [] as number[], p99: [] as number[], latencies: createHistogram(), cpuMicros: 0, ok: 0, non2xx: 0, errors: 0 });
  const samples = { unenforced: newSample(), enforced: newSample(), control: newSample() };
  const machineBefore = readMachineCpu();
  const ownCpuBefore = process.cpuUsage();
  const serverCpuBefore = await apps.host.cpuMicros();
  const startedAt = performance.now();
  for (let round = 0; round < settings.rounds; round += 1) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const sample = samples[name];
      const cpuBefore = await apps.host.cpuMicros();
      const result = await runLoad(url(name), load);
      sample.cpuMicros += (await apps.host.cpuMicros()) - cpuBefore;
      sample.rps.push(result.requestsPerSecond);
      sample.p99.push(percentileMs(result.latencies, 99));
      sample.latencies.add(result.latencies);
      sample.ok += result.ok;
      sample.non2xx += result.non2xx;
      sample.errors += result.errors;
    }
  }
  const wallMicros = (performance.now() - startedAt) * 1000;
  const serverCpu = (await apps.host.cpuMicros()) - serverCpuBefore;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const machineAfter = readMachineCpu();
  const ourCores = (ownCpu.user + ownCpu.system + serverCpu) / wallMicros;
  const otherProcessesCores =
    machineBefore === null || machineAfter === null ? null : Math.max(0, busyCores(machineBefore, machineAfter) - ourCores);

  const summarize = (name: AppName): AppSummary => {
    const sample = samples[name];
    return {
      requestsPerSecond: mean(sample.rps),
      perRound: sample.rps,
      p99PerRoundMs: sample.p99,
      p50Ms: percentileMs(sample.latencies, 50),
      p99Ms: percentileMs(sample.latencies, 99),
      serverCpuMicrosPerRequest: sample.cpuMicros / sample.ok,
      non2xx: sample.non2xx,
      errors: sample.errors,
    };
  };
  const summaries = { unenforced: summarize('unenforced'), enforced: summarize('enforced'), control: summarize('control') };
  return {
    apps: summaries,
    enforced: compare(summaries.enforced, summaries.unenforced),
    control: compare(summaries.control, summaries.unenforced),
    otherProcessesCores,
  };
}

function compare(app: AppSummary, baseline: AppSummary): Comparison {
  const roundRatios = app.perRound.map((rps, round) => rps / (baseline.perRound[round] as number));
  const addedP99PerRoundMs = app.p99PerRoundMs.map((p99, round) => p99 - (baseline.p99PerRoundMs[round] as number));
  return {
    roundRatios,
    throughputRatio: median(roundRatios),
    throughputRatioOfMeans: app.requestsPerSecond / baseline.requestsPerSecond,
    cpuCostRatio: baseline.serverCpuMicrosPerRequest / app.serverCpuMicrosPerRequest,
    addedCpuMicrosPerRequest: app.serverCpuMicrosPerRequest - baseline.serverCpuMicrosPerRequest,
    addedP99PerRoundMs,
    addedP99Ms: median(addedP99PerRoundMs),
    addedP99PooledMs: app.p99Ms - baseline.p99Ms,
    addedP50PooledMs: app.p50Ms - baseline.p50Ms,
  };
}
