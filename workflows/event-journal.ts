// The session's event log, as decided by the workflow: each event gets its id, its place (seq) and processed_at here,
// and is written to the journal by a local activity, strictly in order (one write in flight at a time). Replay
// reproduces the same events with the same ids, so the journal is a projection of history that can be rebuilt.
// A write waits until the workflow code of the current activation has settled, so every event decided in one
// workflow task goes out in one write (one local activity per task instead of one per await in between). A small
// batch can instead ride with the next model or sandbox tool call: that activity writes it first (the model activity
// before it reads the transcript), which saves the local activity, and the workflow task's wait for it, on every step;
// further writes wait until that call settles.
import { CancellationScope, condition, uuid4 } from '@temporalio/workflow';
import type { JournalBatch } from '../domain/contracts/journal-batch.ts';
import type { DistributiveOmit, JournaledEvent, SessionEvent } from '../domain/events.ts';
import { makeId } from '../domain/ids.ts';
import { journalActivities } from './activity-proxies.ts';
import { patchedFolded } from './folded-patches.ts';

/** Histories recorded before per-activation batching replay the old one-write-per-emit-burst path. */
export const batchPerActivationPatch = 'journal-batch-per-activation';

/** Histories recorded before hand-offs (to model calls and sandbox tool calls) replay without them. */
export const handOffPatch = 'journal-hand-off-to-activities';

/**
 * Sessions from this patch on wait for a local-activity write under way before handing events to an activity, so
 * whether the activity takes them no longer depends on when that write's result arrives. On replay the SDK can
 * deliver a local activity's resolution before a timer (or other job) that came first in the original run, when the
 * write outlived its workflow task (PostgreSQL down, the worker killed): the old check then took the other branch, and
 * the replay failed with "Missing associated machine for LocalActivity" — a session stuck for good (chaos soak).
 */
export const handOffAfterWritePatch = 'journal-hand-off-after-write';

/**
 * Sessions from this patch on let the drain's first wait really last until the activation's workflow code has settled.
 * condition() evaluates its predicate at once (the SDK's eager evaluation): before, a drain started while no hand-off
 * was out went ahead a few microtasks later and took the batch by local activity, ahead of the sandbox call the same
 * activation was about to hand it to — so after every model call that asked for a tool, the tool-use events cost a
 * local activity (a marker in history and a PostgreSQL write inside the workflow task, which could then not complete
 * before it) instead of riding with runTool (bench/results P7).
 */
export const drainAfterSettlePatch = 'journal-drain-after-settle';

/** Batches larger than this always go through the local activity, so history never carries conversation content. */
export const maxHandOffChars = 4_096;

export type NewEvent = DistributiveOmit<SessionEvent, 'id' | 'processed_at'> & { id?: string };

export class EventJournal {
  private pending: JournaledEvent[] = [];
  private writing: Promise<void> | undefined;
  /** A local-activity write is under way (its batch taken); a hand-off must not overtake it. */
  private inFlight = false;
  /** A hand-off waits for the write under way; the drain takes no further batch meanwhile. */
  private reserved = false;
  /** Events handed to an activity to write; nothing later is written until it settles. */
  private handedOff: JournaledEvent[] | undefined;
  private readonly sessionId: string;
  private nextSeq: number;
  private charsEmitted = 0;

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
    this.charsEmitted += JSON.stringify(full).length;
    this.writing ??= this.drain();
    return full;
  }

  /** The seq of the last event emitted (written or not). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Characters of every event emitted by this run (what context compaction estimates request growth by). */
  get emittedChars(): number {
    return this.charsEmitted;
  }

  get seqToCarry(): number {
    return this.nextSeq;
  }

  /** Resolves when every event emitted so far is in the journal. */
  async flushed(): Promise<void> {
    for (;;) {
      if (this.writing) await this.writing;
      else if (this.handedOff) await condition(() => this.handedOff === undefined);
      else return;
    }
  }

  /**
   * Takes the events not yet written, for the next activity to write itself (idempotently, in one statement): only when
   * no write is under way and they are small; otherwise undefined (then await flushed() as usual). The caller must
   * settleHandOff() once the activity has finished, whatever its outcome.
   */
  takeForActivity(): JournalBatch | undefined {
    if (this.inFlight || this.handedOff || this.pending.length === 0) return undefined;
    if (JSON.stringify(this.pending).length > maxHandOffChars) return undefined;
    this.handedOff = this.pending;
    this.pending = [];
    return { sessionId: this.sessionId, events: this.handedOff };
  }

  /**
   * takeForActivity() as the session calls it: behind handOffAfterWritePatch, a write under way is awaited first
   * (the drain then stops after it), so the answer is the same whenever that write's result arrives.
   */
  async takeForActivityAfterWrite(): Promise<JournalBatch | undefined> {
    if (!patchedFolded(handOffAfterWritePatch) || this.handedOff) return this.takeForActivity();
    if (this.inFlight) {
      this.reserved = true;
      try {
        await condition(() => !this.inFlight);
      } finally {
        this.reserved = false;
      }
    }
    const batch = this.takeForActivity();
    if (!batch && this.pending.length > 0) this.writing ??= this.drain();
    return batch;
  }

  /** Ends a hand-off: written, or not known to be (a failed or cancelled activity) — then they are written again. */
  settleHandOff(written: boolean): void {
    const events = this.handedOff;
    this.handedOff = undefined;
    if (written || !events) return;
    this.pending = [...events, ...this.pending]; // lower seqs first; the insert skips rows already there
    this.writing ??= this.drain();
  }

  get isIdle(): boolean {
    return this.writing === undefined && this.pending.length === 0 && this.handedOff === undefined;
  }

  private async drain(): Promise<void> {
    try {
      // Waiting until the activation's workflow code has run to its awaits lets the rest of the task's events join
      // the batch, and an activity scheduled in the same task take it; the write is still scheduled within the same
      // activation. (While a hand-off is out, the wait lasts until it settles, so no later seq is written first.)
      if (patchedFolded(batchPerActivationPatch)) {
        // The eager evaluation answers false; the SDK asks again once the activation's code has run to its awaits.
        let eager = patchedFolded(drainAfterSettlePatch);
        const writable = () => {
          if (eager) return (eager = false);
          return this.handedOff === undefined && !this.reserved;
        };
        await CancellationScope.nonCancellable(() => condition(writable));
      }
      while (this.pending.length > 0 && !this.reserved) {
        const batch = this.pending;
        this.pending = [];
        this.inFlight = true;
        await journalActivities.appendEvents({ sessionId: this.sessionId, events: batch });
        this.inFlight = false;
      }
    } finally {
      this.inFlight = false;
      this.writing = undefined;
    }
  }
}
