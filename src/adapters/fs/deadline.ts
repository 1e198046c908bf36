/**
 * Settles like `work`, unless it takes longer than `ms`: then rejects with `onTimeout()`. The work
 * itself cannot be cancelled (a stalled disk holds a libuv thread) but no caller waits for it.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
