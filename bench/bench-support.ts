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
