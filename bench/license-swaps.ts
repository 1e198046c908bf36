import type { DemoHost } from './demo-host.client.js';
import { sleep } from './bench-support.js';
import { LoadPool } from './sliced-load.js';

export interface SwapSettings {
  readonly intervalMs: number;
  readonly connections: number;
  readonly runSeconds: number;
  /** Allowed by both Pro (1,000,000 rows) and Enterprise (unlimited). */
  readonly allowedRows: number;
  /** Allowed by Enterprise only: a probe that tells which license answered. */
  readonly probeRows: number;
  readonly probeIntervalMs: number;
}

export interface SwapResult {
  readonly swaps: number;
  readonly swapsPerSecond: number;
  readonly maxGapMs: number;
  readonly requests: number;
  readonly non2xx: number;
  /** Connections lost or timed out with a request in flight. */
  readonly errors: number;
  /** Probe answers by status: 200 while Enterprise was in force, 402 while Pro was. */
  readonly probes: Readonly<Record<string, number>>;
}

/**
 * Load on the enforced route while the server swaps Pro and Enterprise every `intervalMs`. A
 * request must never fail because the license changed under it; the probes, with an amount only
 * Enterprise allows, show that the swaps really reach the enforcement.
 */
export async function measureSwapsUnderLoad(host: DemoHost, enforcedUrl: string, settings: SwapSettings): Promise<SwapResult> {
  const probes: Record<string, number> = {};
  let probing = true;
  const probe = async () => {
    while (probing) {
      let outcome: string;
      try {
        const response = await fetch(`${enforcedUrl}?rows=${settings.probeRows}`);
        await response.arrayBuffer();
        outcome = String(response.status);
      } catch {
        outcome = 'error';
      }
      probes[outcome] = (probes[outcome] ?? 0) + 1;
      await sleep(settings.probeIntervalMs);
    }
  };

  await host.startSwaps(settings.intervalMs);
  const probesDone = probe();
  const pool = await LoadPool.open(`${enforcedUrl}?rows=${settings.allowedRows}`, settings.connections);
  let load;
  try {
    load = await pool.run(settings.runSeconds * 1000);
  } finally {
    pool.close();
    probing = false;
    await probesDone;
  }
  const swaps = await host.stopSwaps();
  return {
    swaps: swaps.swaps,
    swapsPerSecond: swaps.swaps / (swaps.elapsedMs / 1000),
    maxGapMs: swaps.maxGapMs,
    requests: load.ok + load.non2xx + load.errors,
    non2xx: load.non2xx,
    errors: load.errors,
    probes,
  };
}
