/** Messages between the bench (parent) and a demo-host child process, over the IPC channel. */

/**
 * `/demo/query` bare; behind `requireQuota('max_result_rows')`; behind that gate and an app-wide
 * `enforce()`; or behind that gate and an app-wide no-op middleware, the cost of any Express layer.
 */
export const DEMO_HOST_VARIANTS = ['unenforced', 'enforced', 'enforced-app-wide', 'no-op-app-wide'] as const;
export type DemoHostVariant = (typeof DEMO_HOST_VARIANTS)[number];

export interface DemoHostReady {
  readonly type: 'ready';
  /** `http://127.0.0.1:<port>/demo/query` of each app, in the order of the variants asked for. */
  readonly urls: readonly string[];
}

export type DemoHostRequest =
  | { readonly id: number; readonly type: 'cpu-usage' }
  | { readonly id: number; readonly type: 'handling-times' }
  | { readonly id: number; readonly type: 'start-swaps'; readonly intervalMs: number }
  | { readonly id: number; readonly type: 'stop-swaps' };

export interface CpuUsageReply {
  readonly id: number;
  readonly type: 'cpu-usage';
  /** `process.cpuUsage()` user + system, in microseconds. */
  readonly cpuMicros: number;
}

/** One app's synchronous request handling since the last `handling-times` request. */
export interface HandlingTimes {
  readonly count: number;
  readonly meanNanos: number;
  readonly medianNanos: number;
}

export interface HandlingTimesReply {
  readonly id: number;
  readonly type: 'handling-times';
  /** In the order of the variants; the counters restart at each request. */
  readonly times: readonly HandlingTimes[];
}

export interface SwapsReply {
  readonly id: number;
  readonly type: 'swaps';
  /** Installs observed by a `LicenseState.onChange` listener since `start-swaps`. */
  readonly swaps: number;
  readonly elapsedMs: number;
  /** The longest time between two installs: how late the swap timer ran under load. */
  readonly maxGapMs: number;
}

export type DemoHostReply = CpuUsageReply | HandlingTimesReply | SwapsReply | { readonly id: number; readonly type: 'ok' };
