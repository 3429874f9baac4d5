// Streams parked mid-answer until a test releases them by key (interrupt-mid-stream tests).

export class FakeHolds {
  private readonly waiting = new Map<string, (() => void)[]>();
  // A release that arrives before the stream reaches its hold point is kept, so tests need not race the server.
  private readonly releasedEarly = new Set<string>();
  private readonly watchers = new Map<string, (() => void)[]>();

  /** Resolves when `key` is released or `signal` aborts (the client went away). */
  async wait(key: string, signal: AbortSignal): Promise<void> {
    if (this.releasedEarly.delete(key) || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        const remaining = (this.waiting.get(key) ?? []).filter((waiter) => waiter !== done);
        if (remaining.length > 0) this.waiting.set(key, remaining);
        else this.waiting.delete(key);
        resolve();
      };
      this.waiting.set(key, [...(this.waiting.get(key) ?? []), done]);
      signal.addEventListener('abort', done, { once: true });
      for (const watcher of this.watchers.get(key) ?? []) watcher();
      this.watchers.delete(key);
    });
  }

  /** Releases every stream held under `key`; returns whether any was held. */
  release(key: string): boolean {
    const waiters = this.waiting.get(key);
    if (!waiters) {
      this.releasedEarly.add(key);
      return false;
    }
    for (const waiter of waiters) waiter();
    return true;
  }

  /** Resolves as soon as a stream is held under `key` (at once if one is): a test acts in the same instant. */
  whenHeld(key: string): Promise<void> {
    if (this.waiting.has(key)) return Promise.resolve();
    return new Promise((resolve) => this.watchers.set(key, [...(this.watchers.get(key) ?? []), resolve]));
  }

  /** Keys with a stream currently held. */
  held(): string[] {
    return [...this.waiting.keys()];
  }
}
