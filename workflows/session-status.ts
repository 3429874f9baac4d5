// Session status: the status events, the SessionStatus search attribute (so sessions list and filter by status in the
// API, the CLI and the UI) and metered active time, which accrues only while `running`.
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { SessionStatus, StopDetails, StopReason } from '../domain/events.ts';
import { sessionStatusKey } from '../domain/search-attributes.ts';
import type { EventJournal } from './event-journal.ts';

export class SessionStatusTracker {
  status: SessionStatus = 'idle';
  stopReason: StopReason | null = null;
  private runningSince: number | undefined;

  private readonly journal: EventJournal;
  activeMs: number;
  /** Told of every change (a session thread reports it to the primary thread: workflows/thread-role.ts). */
  listener?: (status: SessionStatus, stopReason: StopReason | null, stopDetails?: StopDetails) => void;

  constructor(journal: EventJournal, activeMs: number) {
    this.journal = journal;
    this.activeMs = activeMs;
  }

  running(): void {
    if (this.status === 'running') return;
    this.enter('running');
    this.stopReason = null;
    this.journal.emit({ type: 'session.status_running' });
    this.listener?.('running', null);
  }

  rescheduling(): void {
    this.enter('rescheduling');
    this.journal.emit({ type: 'session.status_rescheduled' });
  }

  /** `stopDetails`: a refusal's details (the API's `stop_details`, null otherwise). */
  idle(stopReason: StopReason, stopDetails: StopDetails = null): void {
    this.enter('idle');
    this.stopReason = stopReason;
    this.journal.emit({ type: 'session.status_idle', stop_reason: stopReason, stop_details: stopDetails });
    this.listener?.('idle', stopReason, stopDetails);
  }

  terminated(): void {
    this.enter('terminated');
    this.journal.emit({ type: 'session.status_terminated' });
    this.listener?.('terminated', null);
  }

  /** Active milliseconds including the current running stretch. */
  currentActiveMs(): number {
    return this.activeMs + (this.runningSince === undefined ? 0 : Date.now() - this.runningSince);
  }

  private enter(status: SessionStatus): void {
    const now = Date.now();
    if (this.runningSince !== undefined) this.activeMs += now - this.runningSince;
    this.runningSince = status === 'running' ? now : undefined;
    if (status !== this.status) upsertSearchAttributes([{ key: sessionStatusKey, value: status }]);
    this.status = status;
  }
}
