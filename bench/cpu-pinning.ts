import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

/**
 * On a small machine the scheduler now and then puts the server and the load generator on the same
 * core, and throughput jumps between two levels from one second to the next. Pinning each to its
 * own core (Linux `taskset`) makes runs comparable; null when that is not possible.
 */
export interface CpuPinning {
  readonly loadGeneratorCpu: number;
  readonly serverCpu: number;
}

export function cpuPinning(): CpuPinning | null {
  const count = cpus().length;
  if (count < 2 || spawnSync('taskset', ['-V']).status !== 0) return null;
  return { loadGeneratorCpu: 0, serverCpu: count - 1 };
}

/** Restricts this process, all its threads included, to `cpuList` (for example `0` or `0-1`). */
export function pinThisProcess(cpuList: string): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)]);
  if (result.status !== 0) throw new Error(`taskset failed: ${result.stderr.toString().trim()}`);
}

/** Lets this process run on every core again. */
export const unpinThisProcess = () => pinThisProcess(`0-${cpus().length - 1}`);

/** `command args…` prefixed so that it runs on `cpu` only. */
export function onCpu(cpu: number, command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: 'taskset', args: ['-c', String(cpu), command, ...args] };
}
