import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { onCpu } from './cpu-pinning.js';
import type {
  CpuUsageReply,
  DemoHostReady,
  DemoHostReply,
  DemoHostRequest,
  DemoHostVariant,
  HandlingTimes,
  HandlingTimesReply,
  SwapsReply,
} from './demo-host.protocol.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** A demo-host child process as the parent drives it. */
export class DemoHost {
  #nextId = 1;
  readonly #pending = new Map<number, (reply: DemoHostReply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    /** `http://127.0.0.1:<port>/demo/query` of each app, in the order of the variants. */
    readonly urls: readonly string[],
  ) {
    child.on('message', (reply: DemoHostReply) => {
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
  }

  /**
   * Starts the child, one app per variant, with this process's Node options (the `--import`
   * hooks), on `cpu` alone when given, and waits until every app listens.
   */
  static async start(variants: readonly DemoHostVariant[], cpu: number | null): Promise<DemoHost> {
    const node = { command: process.execPath, args: [...process.execArgv, fileURLToPath(new URL('./demo-host.js', import.meta.url)), ...variants] };
    const { command, args } = cpu === null ? node : onCpu(cpu, node.command, node.args);
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<DemoHostReady>((resolve, reject) => {
      child.once('message', (message: DemoHostReady) => resolve(message));
      child.once('exit', (code) => reject(new Error(`demo-host exited with code ${code} before it was ready`)));
    });
    return new DemoHost(child, ready.urls);
  }

  /** The child's CPU time so far (user + system), in microseconds: all its apps together. */
  async cpuMicros(): Promise<number> {
    return ((await this.#request({ type: 'cpu-usage' })) as CpuUsageReply).cpuMicros;
  }

  /** Each app's request handling times since the last call, in the order of the variants. */
  async handlingTimes(): Promise<readonly HandlingTimes[]> {
    return ((await this.#request({ type: 'handling-times' })) as HandlingTimesReply).times;
  }

  async startSwaps(intervalMs: number): Promise<void> {
    await this.#request({ type: 'start-swaps', intervalMs });
  }

  async stopSwaps(): Promise<SwapsReply> {
    return (await this.#request({ type: 'stop-swaps' })) as SwapsReply;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.disconnect();
    await exited;
  }

  #request(request: WithoutId<DemoHostRequest>): Promise<DemoHostReply> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.child.send({ ...request, id });
    });
  }
}
