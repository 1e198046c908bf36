import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Busy and total CPU time of the whole machine so far, in clock ticks (Linux `/proc/stat`). */
export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

/** Null where `/proc/stat` does not exist (not Linux). */
export function readMachineCpu(): MachineCpu | null {
  if (!existsSync('/proc/stat')) return null;
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0); // without guest time, already in user
  return { busy: total - idle, total };
}

/** Average number of busy cores between two readings. */
export function busyCores(before: MachineCpu, after: MachineCpu): number {
  const total = after.total - before.total;
  return total <= 0 ? 0 : (cpus().length * (after.busy - before.busy)) / total;
}
