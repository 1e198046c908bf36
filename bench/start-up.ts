import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { ADMIN_TOKEN, type AgentEnvironment } from '../test/support/agent-environment.js';
import { BUILT_MAIN, median, sleep } from './bench-support.js';

const READY_TIMEOUT_MS = 10_000;

export interface StartUpResult {
  readonly runs: number;
  /** From spawn to the first 200 from `GET /readyz`. */
  readonly readyMedianMs: number;
  readonly readyRunsMs: readonly number[];
  /** From spawn to the `Listening on` log line. */
  readonly listeningMedianMs: number;
}

interface StartUpRun {
  readonly listeningMs: number;
  readonly readyMs: number;
}

/** Spawns the built server (`node dist/app/main.js`) on a random port and times it to ready. */
async function startOnce(env: Record<string, string>): Promise<StartUpRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [BUILT_MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let output = '';
  try {
    const listening = new Promise<{ url: string; atMs: number }>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        const match = /"msg":"Listening on (http:\/\/[^"]+)"/.exec(output);
        if (match !== null) resolve({ url: match[1] as string, atMs: performance.now() });
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      child.once('exit', (code) => reject(new Error(`the server exited with code ${code}:\n${output}`)));
    });
    const { url, atMs } = await listening;
    for (;;) {
      const response = await fetch(`${url}/readyz`).catch(() => null);
      await response?.arrayBuffer();
      if (response?.status === 200) break;
      if (performance.now() - started > READY_TIMEOUT_MS) throw new Error(`not ready within ${READY_TIMEOUT_MS} ms:\n${output}`);
      await sleep(1);
    }
    const readyMs = performance.now() - started;
    const status = await fetch(`${url}/admin/license`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const license = (await status.json()) as { tier?: string; source?: string };
    if (license.tier !== 'Pro' || license.source !== 'cache') throw new Error(`expected Pro from the cache, got ${JSON.stringify(license)}`);
    return { listeningMs: atMs - started, readyMs };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** `runs` timed start-ups after `warmUp` untimed ones, from the warm cache of `env`. */
export async function measureStartUp(env: AgentEnvironment, settings: { readonly runs: number; readonly warmUp: number }): Promise<StartUpResult> {
  const serverEnv = env.env({ HOME: env.dir });
  const runs: StartUpRun[] = [];
  for (let run = 0; run < settings.warmUp + settings.runs; run += 1) {
    const result = await startOnce(serverEnv);
    if (run >= settings.warmUp) runs.push(result);
  }
  const ready = runs.map((run) => run.readyMs);
  return {
    runs: runs.length,
    readyMedianMs: median(ready),
    readyRunsMs: ready,
    listeningMedianMs: median(runs.map((run) => run.listeningMs)),
  };
}
