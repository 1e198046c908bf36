import type { RecordableHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../src/ports/logger.port.js';

/** The package root, from the compiled bench in dist-bench/bench/. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUILT_MAIN = `${PACKAGE_ROOT}dist/app/main.js`;
export const RESULTS_FILE = `${PACKAGE_ROOT}bench/results.json`;

/** The bench's own timing must not be disturbed by log output. */
export const SILENT_LOGGER: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The `p`-th percentile (0–100) of `values`, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export const median = (values: readonly number[]) => percentile(values, 50);

export const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The `p`-th percentile of a histogram of microseconds, in milliseconds. */
export const percentileMs = (histogram: RecordableHistogram, p: number) => histogram.percentile(p) / 1000;

/**
 * The 95 % bootstrap interval of `statistic(values)`: 2,000 resamples drawn by a seeded generator,
 * so the same measurements always give the same interval.
 */
export function bootstrapInterval(values: readonly number[], statistic: (sample: readonly number[]) => number): [number, number] {
  let seed = 0x9e3779b9;
  const random = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const estimates = Array.from({ length: 2_000 }, () => statistic(values.map(() => values[Math.floor(random() * values.length)] as number)));
  return [percentile(estimates, 2.5), percentile(estimates, 97.5)];
}
