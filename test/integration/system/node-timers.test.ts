import { describe, expect, it } from '@jest/globals';
import { NodeTimers } from '../../../src/adapters/system/node-timers.js';

describe('NodeTimers', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses the delay %p instead of firing at once', (delay) => {
    let fired = false;
    expect(() => new NodeTimers().schedule(() => (fired = true), delay)).toThrow(RangeError);
    expect(fired).toBe(false);
  });

  it('fires a short timer, and a cancelled one never', async () => {
    const timers = new NodeTimers();
    const fired: string[] = [];
    timers.schedule(() => fired.push('kept'), 1);
    timers.schedule(() => fired.push('cancelled'), 1).cancel();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toEqual(['kept']);
  });

  it('does not fire a timer beyond the 2^31-1 ms Node limit early', async () => {
    let fired = false;
    const handle = new NodeTimers().schedule(() => (fired = true), 25 * 86_400_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    handle.cancel();
    expect(fired).toBe(false);
  });
});
