import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';

/** The permission bits of `path` itself (a link is not followed), e.g. `0o600`. */
export function permissionsOf(path: string): number {
  return lstatSync(path).mode & 0o777;
}

/** The names in `dir`, sorted: shows leftover temporary files. */
export function entriesOf(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * Runs `action` with a permissive umask (0 unless told), so a mode that is right only thanks to the
 * default umask shows up as wrong. The umask is process-wide: restored before returning.
 */
export async function withUmask<T>(action: () => Promise<T>, umask = 0): Promise<T> {
  const previous = process.umask(umask);
  try {
    return await action();
  } finally {
    process.umask(previous);
  }
}

/** A named pipe at `path`; opening it for reading without O_NONBLOCK blocks until a writer comes. */
export function makeFifo(path: string): void {
  execFileSync('mkfifo', [path]);
}
