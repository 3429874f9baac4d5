// The hand-over between an in-sandbox harness's reader (its process's messages) and the step that waits on them.

/** A queue read by one consumer at a time. */
export class Channel<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T) => void) | undefined;

  push(item: T): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) yield await this.next();
  }
}
