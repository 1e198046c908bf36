/**
 * Issue 11 §5, what the agent adds to a host's start-up, side by side with a bare Express app
 * (`bench/bare-express.ts`) in one run, the two taking turns:
 *
 * - process start to the first `/readyz` 200: `node dist/app/main.js` in Community (no API key, no
 *   static license, no backend: a fresh HOME) against `node bare-express.js`;
 * - RSS of each process right after that 200 (VmRSS from /proc/<pid>/status);
 * - import cost: a child timing `await import('express')` alone against one that then also imports
 *   the package (`bench/import-cost.ts`).
 *
 * Medians of the runs after an untimed warm-up pair.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeTempDir } from '../test/support/temp-dir.js';
import { BUILT_MAIN, median, round, sleep } from './bench-support.js';
import type { ImportCostSample } from './import-cost.js';

const READY_TIMEOUT_MS = 10_000;
const BARE_EXPRESS = fileURLToPath(new URL('./bare-express.js', import.meta.url));
const IMPORT_COST = fileURLToPath(new URL('./import-cost.js', import.meta.url));

export const START_UP_TARGETS = {
  /** Spawn to `/readyz` 200, agent over bare Express. */
  readyRatio: 1.3,
  /** RSS after ready, agent minus bare Express. */
  addedRssMb: 12,
  /** `import` of the package after Express's. */
  addedImportMs: 120,
} as const;

export interface StartUpCostSettings {
  readonly runs: number;
  readonly warmUp: number;
}

interface ReadyRun {
  readonly readyMs: number;
  readonly rssMb: number | null;
}

export interface StartUpSide {
  readonly readyMedianMs: number;
  readonly readyRunsMs: readonly number[];
  readonly rssMedianMb: number | null;
  readonly rssRunsMb: readonly (number | null)[];
}

export interface ImportSide {
  readonly totalMedianMs: number;
  readonly totalRunsMs: readonly number[];
  readonly expressMedianMs: number;
  /** Median of the package's own import, timed in the process after Express's (0 for Express alone). */
  readonly agentMedianMs: number;
  readonly rssMedianMb: number;
}

export interface StartUpCostResult {
  readonly runs: number;
  readonly bare: StartUpSide;
  readonly agent: StartUpSide;
  /** Agent's median over bare Express's median, spawn to `/readyz` 200. */
  readonly readyRatio: number;
  /** Agent's median RSS after ready minus bare Express's, in MB (null without /proc). */
  readonly addedRssMb: number | null;
  readonly importExpress: ImportSide;
  readonly importExpressAndAgent: ImportSide;
  /** Median total of Express + the package minus median total of Express alone. */
  readonly addedImportMs: number;
  readonly targets: typeof START_UP_TARGETS;
}

/** VmRSS of a live process in MB, or null where /proc is not there. */
function rssMbOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]) / 1024;
  } catch {
    return null;
  }
}

/** Spawns `node <script>` on a random port and times it to the first `/readyz` 200. */
async function readyOnce(script: string, env: Record<string, string>): Promise<ReadyRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let output = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const match = /"msg":"Listening on (http:\/\/[^"]+)"/.exec(output);
        if (match !== null) resolve(match[1] as string);
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      child.once('exit', (code) => reject(new Error(`${script} exited with code ${code}:\n${output}`)));
    });
    for (;;) {
      const response = await fetch(`${url}/readyz`).catch(() => null);
      await response?.arrayBuffer();
      if (response?.status === 200) break;
      if (performance.now() - started > READY_TIMEOUT_MS) throw new Error(`${script} not ready within ${READY_TIMEOUT_MS} ms:\n${output}`);
      await sleep(1);
    }
    const readyMs = performance.now() - started;
    return { readyMs, rssMb: child.pid === undefined ? null : rssMbOf(child.pid) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function importOnce(variant: 'express' | 'express+agent'): Promise<ImportCostSample> {
  const child = spawn(process.execPath, [IMPORT_COST, variant], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`import-cost.js ${variant} exited with code ${code}`);
  return JSON.parse(output) as ImportCostSample;
}

const nonNull = (values: readonly (number | null)[]) => values.filter((value): value is number => value !== null);

function startUpSide(runs: readonly ReadyRun[]): StartUpSide {
  const rss = runs.map((run) => run.rssMb);
  const known = nonNull(rss);
  return {
    readyMedianMs: round(median(runs.map((run) => run.readyMs)), 1),
    readyRunsMs: runs.map((run) => round(run.readyMs, 1)),
    rssMedianMb: known.length === 0 ? null : round(median(known), 1),
    rssRunsMb: rss.map((value) => (value === null ? null : round(value, 1))),
  };
}

function importSide(samples: readonly ImportCostSample[]): ImportSide {
  return {
    totalMedianMs: round(median(samples.map((sample) => sample.totalMs)), 1),
    totalRunsMs: samples.map((sample) => round(sample.totalMs, 1)),
    expressMedianMs: round(median(samples.map((sample) => sample.expressMs)), 1),
    agentMedianMs: round(median(samples.map((sample) => sample.agentMs)), 1),
    rssMedianMb: round(median(samples.map((sample) => sample.rssBytes / 2 ** 20)), 1),
  };
}

/** `runs` timed pairs after `warmUp` untimed ones, the order within a pair alternating. */
export async function measureStartUpCost(settings: StartUpCostSettings): Promise<StartUpCostResult> {
  // Community without a backend: no API key, no static license, a cache directory of its own (the
  // admin token generated there by the warm-up is read back by the timed runs).
  const home = makeTempDir('license-agent-start-up-');
  const agentEnv = { HOME: home };
  const bare: ReadyRun[] = [];
  const agent: ReadyRun[] = [];
  const importExpress: ImportCostSample[] = [];
  const importBoth: ImportCostSample[] = [];
  try {
    for (let run = 0; run < settings.warmUp + settings.runs; run += 1) {
      const timed = run >= settings.warmUp;
      const agentFirst = run % 2 === 0;
      for (const side of agentFirst ? (['agent', 'bare'] as const) : (['bare', 'agent'] as const)) {
        const result = side === 'agent' ? await readyOnce(BUILT_MAIN, agentEnv) : await readyOnce(BARE_EXPRESS, {});
        if (timed) (side === 'agent' ? agent : bare).push(result);
      }
      for (const variant of agentFirst ? (['express+agent', 'express'] as const) : (['express', 'express+agent'] as const)) {
        const sample = await importOnce(variant);
        if (timed) (variant === 'express' ? importExpress : importBoth).push(sample);
      }
    }
  } finally {
    removeTempDir(home);
  }
  const bareSide = startUpSide(bare);
  const agentSide = startUpSide(agent);
  const importExpressSide = importSide(importExpress);
  const importBothSide = importSide(importBoth);
  return {
    runs: settings.runs,
    bare: bareSide,
    agent: agentSide,
    readyRatio: round(agentSide.readyMedianMs / bareSide.readyMedianMs, 3),
    addedRssMb: agentSide.rssMedianMb === null || bareSide.rssMedianMb === null ? null : round(agentSide.rssMedianMb - bareSide.rssMedianMb, 1),
    importExpress: importExpressSide,
    importExpressAndAgent: importBothSide,
    addedImportMs: round(importBothSide.totalMedianMs - importExpressSide.totalMedianMs, 1),
    targets: START_UP_TARGETS,
  };
}
