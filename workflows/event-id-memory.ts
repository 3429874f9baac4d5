// The ids of user events a session has taken, so that a redelivered event (a retried POST, a signal and an update
// carrying the same batch) is applied once. Bounded: the newest ids travel across continue-as-new.
const maxRememberedEventIds = 1_000;

export class EventIdMemory {
  private readonly order: string[];
  readonly ids: Set<string>;

  constructor(carried: readonly string[]) {
    this.order = [...carried];
    this.ids = new Set(this.order);
  }

  /** Records the id; false when it was seen before. */
  remember(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    this.order.push(id);
    if (this.order.length > maxRememberedEventIds * 2) {
      const dropped = this.order.splice(0, this.order.length - maxRememberedEventIds);
      for (const old of dropped) this.ids.delete(old);
    }
    return true;
  }

  toCarry(): string[] {
    return this.order.slice(-maxRememberedEventIds);
  }
}
