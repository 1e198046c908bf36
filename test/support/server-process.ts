import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/app/main.js', import.meta.url));

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/**
 * The built example host (`dist/app/main.js`) as a child process on a random port. Its JSON log
 * lines are parsed as they arrive; every wait is bounded.
 */
export class ServerProcess {
  readonly lines: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #listeners: (() => void)[] = [];

  private constructor(env: Record<string, string>) {
    this.#child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? '/nonexistent', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.#onStdout(chunk));
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
  }

  static spawn(env: Record<string, string>): ServerProcess {
    return new ServerProcess(env);
  }

  /** Starts the server and waits until it listens; returns its base URL. */
  static async start(env: Record<string, string>): Promise<{ server: ServerProcess; url: string }> {
    const server = new ServerProcess(env);
    const line = await server.waitForLog((l) => l.msg.startsWith('Listening on '));
    return { server, url: line.msg.slice('Listening on '.length) };
  }

  /** Waits for a log line matching `predicate` (already seen or still to come). */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(predicate);
        if (found === undefined) return false;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((listener) => listener !== check);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter((listener) => listener !== check);
        reject(new Error(`no matching log line within ${timeoutMs} ms; output so far:\n${this.stdout}${this.stderr}`));
      }, timeoutMs);
      if (!check()) this.#listeners.push(check);
    });
  }

  /** Resolves with the exit code, or rejects after `timeoutMs` (and kills the process). */
  async exitCode(timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#child.kill('SIGKILL');
        reject(new Error(`process did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.#exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    this.#child.kill(signal);
    return this.exitCode(timeoutMs);
  }

  /** Sends `signal` without waiting for anything (SIGHUP: reload). */
  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Kills the process if it still runs (for afterEach). */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
  }

  #onStdout(chunk: string): void {
    const start = this.stdout.lastIndexOf('\n') + 1;
    this.stdout += chunk;
    const complete = this.stdout.slice(start, this.stdout.lastIndexOf('\n') + 1);
    for (const text of complete.split('\n').filter(Boolean)) {
      try {
        this.lines.push(JSON.parse(text) as LogLine);
      } catch {
        this.lines.push({ level: 0, msg: text });
      }
    }
    for (const listener of [...this.#listeners]) listener();
  }
}
