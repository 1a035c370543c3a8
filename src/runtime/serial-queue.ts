/**
 * Runs async jobs one at a time, in the order they were pushed. A session's runs read and write its
 * held state, so two runs must never overlap; a job whose AbortSignal fires before it starts is
 * dropped without running.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private closedReason: Error | null = null;

  push<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.closedReason) return Promise.reject(this.closedReason);
    signal?.throwIfAborted();
    const result = this.tail.then(() => {
      if (this.closedReason) throw this.closedReason;
      signal?.throwIfAborted();
      return job();
    });
    // The next job waits for this one whether it succeeds or fails.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Makes every job not yet started, and every later push, reject with `reason`. */
  close(reason: Error): void {
    this.closedReason ??= reason;
  }

  /** Resolves when every job pushed so far has settled. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
