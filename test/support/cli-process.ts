import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, as the `bin` entry runs it. */
export const CLI = fileURLToPath(new URL('../../dist/app/cli/main.js', import.meta.url));
/** A `node --import` hook that records every module URL a process imports (see record-imports.mjs). */
export const RECORD_IMPORTS = fileURLToPath(new URL('./record-imports.mjs', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  readonly ms: number;
}

export interface CliOptions {
  /** The whole environment of the child besides PATH and HOME: nothing leaks in from the test's own. */
  readonly env?: Record<string, string>;
  /** Written to standard input, which is then closed (closed at once when absent). */
  readonly input?: string;
  readonly cwd?: string;
  /** Options for node itself, before the script (e.g. `--import`). */
  readonly nodeArgs?: readonly string[];
  /** Another script to run instead of the CLI (a control experiment). */
  readonly script?: string;
  readonly timeoutMs?: number;
}

/**
 * Runs the built CLI (`node dist/app/cli/main.js …`) as a child process, asynchronously (the fake
 * backend it may reach through the agent lives in this process). Kills it after `timeoutMs`.
 */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script ?? CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: options.env?.HOME ?? '/nonexistent', ...options.env },
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => undefined); // a CLI that does not read its input may close it first
  child.stdin.end(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI ${args.join(' ')} did not exit within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}
