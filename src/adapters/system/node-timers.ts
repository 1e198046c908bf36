import { assertFiniteDelay, type TimerHandle, type Timers } from '../../ports/timers.port.js';

/** Node's `setTimeout` fires at once for delays past 2^31-1 ms; longer waits are chained. */
const LONGEST_NODE_DELAY_MS = 2_147_483_647;

/**
 * Timers on Node's event loop, unref'd: the agent's background work never keeps a host process
 * alive on its own.
 */
export class NodeTimers implements Timers {
  schedule(callback: () => void, delayMs: number): TimerHandle {
    assertFiniteDelay(delayMs);
    const dueAt = Date.now() + Math.max(0, delayMs);
    let timer: NodeJS.Timeout;
    const arm = (ms: number) => {
      timer = setTimeout(() => {
        const left = dueAt - Date.now();
        if (left > 0) arm(left);
        else callback();
      }, Math.min(ms, LONGEST_NODE_DELAY_MS));
      timer.unref();
    };
    arm(dueAt - Date.now());
    return { cancel: () => clearTimeout(timer) };
  }
}
