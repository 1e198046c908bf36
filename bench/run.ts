/**
 * `npm run bench`: what the agent costs a host, measured side by side in one run. It prints a
 * table and writes bench/results.json. Numbers are measured, never asserted: this is not a test.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { AgentEnvironment } from '../test/support/agent-environment.js';
import { RESULTS_FILE, round } from './bench-support.js';
import { cpuPinning, pinThisProcess, unpinThisProcess } from './cpu-pinning.js';
import { appUrl, measureEnforcementOverhead, startOverheadHost, type AppSummary, type Comparison } from './enforcement-overhead.js';
import { measureJwtVerification } from './jwt-verification.js';
import { measureSwapsUnderLoad } from './license-swaps.js';
import { formatTable, verdict, type ReportRow, type Verdict } from './report.js';
import { measureStartUp } from './start-up.js';
import { measureStartUpCost, type StartUpCostResult } from './start-up-cost.js';
import { measureWarmCacheResolution, warmTheCache, type ResolutionTimes } from './warm-cache-resolution.js';

const SETTINGS = {
  overhead: { rounds: 120, connections: 10, sliceMs: 100, warmUpMs: 1_500, interleavedMs: 10_000, rows: 1_000 },
  swaps: { intervalMs: 20, connections: 10, runSeconds: 5, allowedRows: 1_000, probeRows: 2_000_000, probeIntervalMs: 10 },
  verification: { seconds: 2, warmUp: 500 },
  resolution: { runs: 40, warmUp: 5 },
  startUp: { runs: 5, warmUp: 1 },
  startUpCost: { runs: 11, warmUp: 1 },
} as const;

/** `--only start-up`: only the start-up cost against bare Express (section 5), for quick iterations. */
const ONLY = (() => {
  const index = process.argv.indexOf('--only');
  const value = index === -1 ? undefined : process.argv[index + 1];
  if (value !== undefined && value !== 'start-up') throw new Error(`--only: expected start-up, got ${value}`);
  return value ?? null;
})();

const TARGETS = {
  throughputRatio: 0.97,
  addedP99Ms: 1,
  swapsPerSecond: 10,
} as const;

/** Outside CPU load (in cores) above which the throughput figures are flagged as noisy. */
const NOISE_CORES = 0.1;

const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (value: number, digits = 2) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const signed = (value: number, digits: number) => `${value >= 0 ? '+' : ''}${fmt(value, digits)}`;
const range = (values: readonly number[], digits: number) => `${fmt(Math.min(...values), digits)}..${fmt(Math.max(...values), digits)}`;

/** PASS or FAIL, or NOISY when the median misses the target but its interval reaches it. */
const ratioVerdict = (comparison: Comparison): Verdict => {
  if (comparison.throughputRatio >= TARGETS.throughputRatio) return 'PASS';
  return comparison.throughputRatioInterval[1] >= TARGETS.throughputRatio ? 'NOISY' : 'FAIL';
};

const addedP99Row = (label: string, comparison: Comparison): ReportRow => ({
  section: '1',
  measure: `Added p99 latency, ${label}`,
  result: `${signed(comparison.addedP99Ms, 3)} ms median of rounds; pooled ${signed(comparison.addedP99PooledMs, 3)} ms (p50 ${signed(comparison.addedP50PooledMs, 3)} ms)`,
  target: `< ${TARGETS.addedP99Ms} ms`,
  verdict: verdict(comparison.addedP99Ms < TARGETS.addedP99Ms),
});

function startUpCostRows(cost: StartUpCostResult): ReportRow[] {
  const { targets } = cost;
  const mb = (value: number | null) => (value === null ? 'unknown (no /proc)' : `${fmt(value, 1)} MB`);
  return [
    {
      section: '5',
      measure: 'Spawn to /readyz 200: bare Express, agent (Community)',
      result: `median ${fmt(cost.bare.readyMedianMs, 0)} ms, ${fmt(cost.agent.readyMedianMs, 0)} ms (n=${cost.runs} each, alternating)`,
      target: '',
      verdict: 'info',
    },
    {
      section: '5',
      measure: '  agent / bare Express',
      result: `${fmt(cost.readyRatio, 2)}x`,
      target: `<= ${targets.readyRatio}x`,
      verdict: verdict(cost.readyRatio <= targets.readyRatio),
    },
    {
      section: '5',
      measure: 'RSS after ready: bare Express, agent',
      result: `median ${mb(cost.bare.rssMedianMb)}, ${mb(cost.agent.rssMedianMb)}`,
      target: '',
      verdict: 'info',
    },
    {
      section: '5',
      measure: '  agent - bare Express',
      result: cost.addedRssMb === null ? 'unknown' : `${signed(cost.addedRssMb, 1)} MB`,
      target: `<= +${targets.addedRssMb} MB`,
      verdict: cost.addedRssMb === null ? 'info' : verdict(cost.addedRssMb <= targets.addedRssMb),
    },
    {
      section: '5',
      measure: 'import: express, express + the package',
      result:
        `median ${fmt(cost.importExpress.totalMedianMs, 0)} ms, ${fmt(cost.importExpressAndAgent.totalMedianMs, 0)} ms ` +
        `(the package alone, after express: ${fmt(cost.importExpressAndAgent.agentMedianMs, 0)} ms; RSS +${fmt(cost.importExpressAndAgent.rssMedianMb - cost.importExpress.rssMedianMb, 1)} MB)`,
      target: '',
      verdict: 'info',
    },
    {
      section: '5',
      measure: '  added by the package',
      result: `${signed(cost.addedImportMs, 0)} ms`,
      target: `<= ${targets.addedImportMs} ms`,
      verdict: verdict(cost.addedImportMs <= targets.addedImportMs),
    },
  ];
}

const machineLine = () => `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`;

/** `--only start-up`: section 5's comparison with bare Express alone. */
async function startUpOnly(): Promise<void> {
  const began = Date.now();
  log('5. start-up against bare Express…');
  const startUpCost = await measureStartUpCost(SETTINGS.startUpCost);
  const rows = startUpCostRows(startUpCost);
  const seconds = (Date.now() - began) / 1000;
  process.stdout.write(`\n${formatTable(rows)}\n\n${machineLine()}; took ${fmt(seconds, 0)} s. Details in bench/results.json\n`);
  const results = {
    measuredAt: new Date(began).toISOString(),
    only: ONLY,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    durationSeconds: round(seconds, 1),
    settings: { startUpCost: SETTINGS.startUpCost },
    startUpCost,
    table: rows,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
}

async function main(): Promise<void> {
  if (ONLY === 'start-up') return startUpOnly();
  const began = Date.now();
  const rows: ReportRow[] = [];

  const pinning = cpuPinning();
  log(
    `1-2. enforcement overhead and license swaps under load (apps in a child process${pinning === null ? ', CPUs not pinned' : ` on CPU ${pinning.serverCpu}, load generator on CPU ${pinning.loadGeneratorCpu}`})…`,
  );
  if (pinning !== null) pinThisProcess(String(pinning.loadGeneratorCpu));
  let overhead;
  let swaps;
  try {
    const host = await startOverheadHost(pinning?.serverCpu ?? null);
    try {
      overhead = await measureEnforcementOverhead(host, SETTINGS.overhead);
      swaps = await measureSwapsUnderLoad(host, appUrl(host, 'enforcedAppWide'), SETTINGS.swaps);
    } finally {
      await host.stop();
    }
  } finally {
    if (pinning !== null) unpinThisProcess();
  }
  const app = (summary: AppSummary) =>
    `${fmt(summary.requestsPerSecond, 0)} req/s, p99 ${fmt(summary.p99Ms, 3)} ms, server CPU ${fmt(summary.serverCpuMicrosPerRequest, 1)} us/req, handling median ${fmt(summary.handlingMedianMicros, 1)} us`;
  const ratio = (comparison: Comparison) =>
    `${fmt(comparison.throughputRatio, 3)} median of ${comparison.roundRatios.length} rounds (95% CI ${range(comparison.throughputRatioInterval, 3)}); ` +
    `implied by handling time ${fmt(comparison.impliedThroughputRatio, 3)} (${signed(comparison.addedHandlingMicros, 1)} us/req)`;
  const { enforced, enforcedAppWide, noOpAppWide, control } = overhead;
  const failed = Object.values(overhead.apps).reduce((sum, summary) => sum + summary.non2xx + summary.errors, 0);
  const noisy = overhead.otherProcessesCores !== null && overhead.otherProcessesCores >= NOISE_CORES;
  rows.push(
    { section: '1', measure: 'Route without enforcement', result: app(overhead.apps.unenforced), target: '', verdict: 'info' },
    { section: '1', measure: 'Same route behind requireQuota', result: app(overhead.apps.enforced), target: '', verdict: 'info' },
    { section: '1', measure: 'Same, plus app.use(enforce())', result: app(overhead.apps.enforcedAppWide), target: '', verdict: 'info' },
    { section: '1', measure: 'Same, plus app.use(no-op) instead', result: app(overhead.apps.noOpAppWide), target: '', verdict: 'info' },
    { section: '1', measure: 'A/A control: a twin of the first route', result: app(overhead.apps.control), target: '', verdict: 'info' },
    {
      section: '1',
      measure: 'Throughput ratio requireQuota/unenforced',
      result: `${fmt(enforced.throughputRatio, 3)} median of ${enforced.roundRatios.length} rounds (95% CI ${range(enforced.throughputRatioInterval, 3)})`,
      target: `>= ${TARGETS.throughputRatio}`,
      verdict: ratioVerdict(enforced),
    },
    {
      section: '1',
      measure: '  the same, implied by handling time',
      result: `${fmt(enforced.impliedThroughputRatio, 3)} (${signed(enforced.addedHandlingMicros, 1)} us on ${fmt(overhead.apps.unenforced.serverCpuMicrosPerRequest, 1)} us/req)`,
      target: `>= ${TARGETS.throughputRatio}`,
      verdict: verdict(enforced.impliedThroughputRatio >= TARGETS.throughputRatio),
    },
    { section: '1', measure: 'Throughput ratio app-wide enforce()/unenforced', result: ratio(enforcedAppWide), target: '', verdict: 'info' },
    { section: '1', measure: 'Throughput ratio app-wide no-op/unenforced', result: ratio(noOpAppWide), target: '', verdict: 'info' },
    { section: '1', measure: 'Throughput ratio control/unenforced (noise)', result: ratio(control), target: '1', verdict: 'info' },
    addedP99Row('requireQuota', enforced),
    addedP99Row('app-wide enforce()', enforcedAppWide),
    { section: '1', measure: 'Failed requests in those runs', result: `${failed} non-2xx or errors`, target: '0', verdict: verdict(failed === 0) },
    {
      section: '1',
      measure: 'Other processes on this machine meanwhile',
      result: overhead.otherProcessesCores === null ? 'unknown (no /proc/stat)' : `${fmt(overhead.otherProcessesCores, 2)} of ${cpus().length} cores busy`,
      target: `< ${NOISE_CORES}`,
      verdict: noisy ? 'NOISY' : 'info',
    },
  );

  const probes = Object.entries(swaps.probes).map(([status, count]) => `${count}x ${status}`).join(', ');
  const probesSawBothTiers = (swaps.probes['200'] ?? 0) > 0 && (swaps.probes['402'] ?? 0) > 0;
  const probesOnlyExpected = Object.keys(swaps.probes).every((status) => status === '200' || status === '402');
  rows.push(
    {
      section: '2',
      measure: 'Pro <-> Enterprise swaps under load',
      result: `${fmt(swaps.swapsPerSecond, 1)} swaps/s (${swaps.swaps} swaps, longest gap ${fmt(swaps.maxGapMs, 0)} ms)`,
      target: `>= ${TARGETS.swapsPerSecond}/s`,
      verdict: verdict(swaps.swapsPerSecond >= TARGETS.swapsPerSecond),
    },
    {
      section: '2',
      measure: 'Failed requests while swapping',
      result: `${swaps.non2xx} non-2xx, ${swaps.errors} errors or timeouts of ${fmt(swaps.requests, 0)}`,
      target: '0',
      verdict: verdict(swaps.non2xx + swaps.errors === 0 && swaps.requests > 0),
    },
    {
      section: '2',
      measure: 'Probes over the Pro quota (200 = Enterprise, 402 = Pro)',
      result: probes,
      target: 'both tiers seen',
      verdict: verdict(probesSawBothTiers && probesOnlyExpected),
    },
  );

  log('3. JWT verification…');
  const verification = await measureJwtVerification(SETTINGS.verification);
  rows.push({
    section: '3',
    measure: 'JoseLicenseVerifier.verify (Ed25519 JWT)',
    result: `${fmt(verification.perSecond, 0)} verifications/s (${fmt(verification.microsEach, 1)} us each)`,
    target: '',
    verdict: 'info',
  });

  log('4-5. warm-cache resolution and start-up…');
  const env = await AgentEnvironment.create();
  let resolution;
  let startUp;
  try {
    await warmTheCache(env);
    resolution = await measureWarmCacheResolution(env, SETTINGS.resolution);
    startUp = await measureStartUp(env, SETTINGS.startUp);
  } finally {
    await env.dispose();
  }
  const times = (t: ResolutionTimes) =>
    `median ${fmt(t.medianMs, 2)} ms, p95 ${fmt(t.p95Ms, 2)} ms (n=${t.runs}); with createLicenseAgent: median ${fmt(t.createAndStartMedianMs, 2)} ms`;
  rows.push(
    { section: '4', measure: 'Resolution from warm cache, no API key', result: times(resolution.noApiKey), target: '', verdict: 'info' },
    { section: '4', measure: 'Resolution from warm cache, backend unreachable', result: times(resolution.backendUnreachable), target: '', verdict: 'info' },
    {
      section: '5',
      measure: 'Start-up to ready (node dist/app/main.js)',
      result: `median ${fmt(startUp.readyMedianMs, 0)} ms to /readyz 200, ${fmt(startUp.listeningMedianMs, 0)} ms to listening (n=${startUp.runs})`,
      target: '',
      verdict: 'info',
    },
  );

  log('5. start-up against bare Express…');
  const startUpCost = await measureStartUpCost(SETTINGS.startUpCost);
  rows.push(...startUpCostRows(startUpCost));

  const seconds = (Date.now() - began) / 1000;
  process.stdout.write(`\n${formatTable(rows)}\n\n${machineLine()}; took ${fmt(seconds, 0)} s. Details in bench/results.json\n`);
  const results = {
    measuredAt: new Date(began).toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    cpuPinning: pinning,
    durationSeconds: round(seconds, 1),
    settings: SETTINGS,
    targets: TARGETS,
    enforcementOverhead: overhead,
    licenseSwaps: swaps,
    jwtVerification: verification,
    warmCacheResolution: resolution,
    startUp,
    startUpCost,
    table: rows,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
