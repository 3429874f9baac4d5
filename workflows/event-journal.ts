// The session's event log, as decided by the workflow: each event gets its id, its place (seq) and processed_at here,
// and is written to the journal by a local activity, strictly in order (one write in flight at a time). Replay
// reproduces the same events with the same ids, so the journal is a projection of history that can be rebuilt.
// A write waits until the workflow code of the current activation has settled, so every event decided in one
// workflow task goes out in one write (one local activity per task instead of one per await in between).
import { CancellationScope, condition, patched, uuid4 } from '@temporalio/workflow';
import type { JournaledEvent, SessionEvent } from '../domain/events.ts';
import { makeId } from '../domain/ids.ts';
import { journalActivities } from './activity-proxies.ts';

/** Histories recorded before per-activation batching replay the old one-write-per-emit-burst path. */
export const batchPerActivationPatch = 'journal-batch-per-activation';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type NewEvent = DistributiveOmit<SessionEvent, 'id' | 'processed_at'> & { id?: string };

export class EventJournal {
  private pending: JournaledEvent[] = [];
  private writing: Promise<void> | undefined;
  private readonly sessionId: string;
  private nextSeq: number;

  constructor(sessionId: string, nextSeq: number) {
    this.sessionId = sessionId;
    this.nextSeq = nextSeq;
  }

  /** A fresh event id (deterministic under replay). */
  newId(): string {
    return makeId('event', uuid4());
  }

  emit<E extends NewEvent>(event: E): SessionEvent {
    const full = { ...event, id: event.id ?? this.newId(), processed_at: new Date().toISOString() } as SessionEvent;
    this.pending.push({ seq: this.nextSeq++, event: full });
    this.writing ??= this.drain();
    return full;
  }

  /** The seq of the last event emitted (written or not). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get seqToCarry(): number {
    return this.nextSeq;
  }

  /** Resolves when every event emitted so far is in the journal. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  get isIdle(): boolean {
    return this.writing === undefined && this.pending.length === 0;
  }

  private async drain(): Promise<void> {
    try {
      // Conditions are evaluated only once the activation's workflow code has run to its next await, so this lets
      // the rest of the task's events join the batch; the write is still scheduled within the same activation.
      if (patched(batchPerActivationPatch)) await CancellationScope.nonCancellable(() => condition(() => true));
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        await journalActivities.appendEvents({ sessionId: this.sessionId, events: batch });
      }
    } finally {
      this.writing = undefined;
    }
  }
}
