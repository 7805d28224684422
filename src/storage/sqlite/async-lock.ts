/**
 * A FIFO async mutex. The SQLite engine holds it for the whole of an async transaction, so no
 * other caller's statement can run on the one connection between that transaction's BEGIN and
 * COMMIT (an awaited callback would otherwise let another caller's writes join it, or its reads see
 * uncommitted rows). Release hands the lock straight to the next waiter, so `held` stays true
 * while anyone waits and a newcomer cannot jump the queue.
 */
export class AsyncLock {
  #held = false;
  readonly #waiters: Array<() => void> = [];

  /** True while someone holds the lock (or waits for it). */
  get held(): boolean {
    return this.#held;
  }

  /** Resolves with the release function once the lock is this caller's. */
  acquire(): Promise<() => void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve) => this.#waiters.push(() => resolve(this.#releaser())));
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#held = false;
    };
  }
}
