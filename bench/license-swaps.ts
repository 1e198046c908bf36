import type { DemoHost } from './demo-host.client.js';
import { runLoad } from './load.js';
import { sleep } from './bench-support.js';

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
  readonly errors: number;
  readonly timeouts: number;
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
  const load = await runLoad(`${enforcedUrl}?rows=${settings.allowedRows}`, {
    connections: settings.connections,
    durationSeconds: settings.runSeconds,
  });
  probing = false;
  await probesDone;
  const swaps = await host.stopSwaps();
  return {
    swaps: swaps.swaps,
    swapsPerSecond: swaps.swaps / (swaps.elapsedMs / 1000),
    maxGapMs: swaps.maxGapMs,
    requests: load.requests,
    non2xx: load.non2xx,
    errors: load.errors,
    timeouts: load.timeouts,
    probes,
  };
}
