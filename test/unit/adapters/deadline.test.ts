import { describe, expect, it } from '@jest/globals';
import { withDeadline } from '../../../src/adapters/fs/deadline.js';

describe('withDeadline', () => {
  it('settles like the work when it is in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 1_000, () => new Error('late'))).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('failed')), 1_000, () => new Error('late'))).rejects.toThrow('failed');
  });

  it('rejects with the timeout error when the work never settles', async () => {
    await expect(withDeadline(new Promise<never>(() => undefined), 10, () => new Error('late'))).rejects.toThrow('late');
  });
});
