import autocannon from 'autocannon';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface LoadOptions {
  readonly connections: number;
  readonly durationSeconds: number;
}

export interface LoadResult {
  /** 2xx responses per second. */
  readonly requestsPerSecond: number;
  readonly ok: number;
  readonly requests: number;
  readonly non2xx: number;
  /** Connection errors, timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  readonly durationSeconds: number;
  /**
   * 2xx response times in microseconds. autocannon's own histogram keeps whole milliseconds,
   * too coarse for a sub-millisecond budget.
   */
  readonly latencies: RecordableHistogram;
}

export const percentileMs = (histogram: RecordableHistogram, p: number) => histogram.percentile(p) / 1000;

/** One autocannon run against `url`. */
export function runLoad(url: string, options: LoadOptions): Promise<LoadResult> {
  const latencies = createHistogram();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, connections: options.connections, duration: options.durationSeconds, pipelining: 1 },
      (error: unknown, result) => {
        if (error !== null && error !== undefined) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        resolve({
          requestsPerSecond: result['2xx'] / result.duration,
          ok: result['2xx'],
          requests: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          durationSeconds: result.duration,
          latencies,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) latencies.record(Math.max(1, Math.round(responseTimeMs * 1000)));
    });
  });
}
