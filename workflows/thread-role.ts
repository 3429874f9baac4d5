// A session thread's own side (a workflow started with `input.thread`): it reports every status change to the primary
// thread (with what it awaits from the client, its usage, and at the end of a turn its reply), and journals the reply
// it sends as `agent.thread_message_sent`. Reports go one after another, so the primary sees them in order.
import { getExternalWorkflowHandle, log } from '@temporalio/workflow';
import type { SessionStatus, StopDetails, StopReason, ThreadMessageReceivedEvent } from '../domain/events.ts';
import type { ModelUsage } from '../domain/model.ts';
import type { AwaitedThreadCall, ThreadContext, ThreadReport } from '../domain/threads.ts';
import type { EventJournal } from './event-journal.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import type { PendingEntry } from './runner-work.ts';
import type { SessionStatusTracker } from './session-status.ts';
import { threadReportSignal, type ThreadMessage } from './thread-messages.ts';

export type ThreadMessageEvent = ThreadMessageReceivedEvent;

export interface ThreadState {
  usage: () => ModelUsage;
  awaiting: () => AwaitedThreadCall[];
}

export class ThreadRole {
  private readonly context: ThreadContext;
  private readonly journal: EventJournal;
  private readonly state: ThreadState;
  private reply: { text: string; isError: boolean } | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(context: ThreadContext, journal: EventJournal, state: ThreadState) {
    this.context = context;
    this.journal = journal;
    this.state = state;
  }

  /** The role of a session thread's workflow, listening to its status; undefined for the primary thread. */
  static of(
    input: SessionWorkflowInput,
    journal: EventJournal,
    status: SessionStatusTracker,
    usage: () => ModelUsage,
    pending: Map<string, PendingEntry>,
  ): ThreadRole | undefined {
    if (!input.thread) return undefined;
    const role = new ThreadRole(input.thread, journal, { usage, awaiting: () => awaitedCalls(pending) });
    status.listener = (next, stopReason, stopDetails) => role.statusChanged(next, stopReason, stopDetails);
    return role;
  }

  /** The end of a turn: its answer goes back to the primary thread with the next (idle) report. */
  finishTurn(text: string, stop: StopReason): void {
    const answer = text || '(the agent gave no answer)';
    this.journal.emit({
      type: 'agent.thread_message_sent',
      content: [{ type: 'text', text: answer }],
      to_session_thread_id: this.context.parentThreadId,
    });
    this.reply = { text: answer, isError: stop.type !== 'end_turn' || text.length === 0 };
  }

  /** The status tracker's listener. */
  statusChanged(status: SessionStatus, stopReason: StopReason | null, stopDetails?: StopDetails): void {
    if (status === 'rescheduling') return;
    const report: ThreadReport = { threadId: this.context.threadId, status, usage: this.state.usage() };
    if (status === 'idle' && stopReason) {
      report.stopReason = stopReason;
      if (stopDetails) report.stopDetails = stopDetails;
      if (stopReason.type === 'requires_action') report.awaiting = this.state.awaiting();
      else if (this.reply) report.reply = this.reply;
      if (stopReason.type !== 'requires_action') this.reply = undefined;
    }
    const parent = getExternalWorkflowHandle(this.context.parentWorkflowId);
    this.sending = this.sending
      .then(() => parent.signal(threadReportSignal, report))
      .catch((error: unknown) => log.warn('could not report to the primary thread', { error: String(error) }));
  }

  /** Resolves once every report has been delivered (before the thread's workflow completes). */
  async reported(): Promise<void> {
    await this.sending;
  }
}

/** What the thread waits on the client for: its unanswered confirmations and custom tool results. */
export function awaitedCalls(pending: Map<string, PendingEntry>): AwaitedThreadCall[] {
  return [...pending.values()].flatMap(({ eventId, kind, name, call, resolution }) =>
    kind === 'tool_result' || resolution ? [] : [{ eventId, kind, name, input: call.input }],
  );
}

/** A message from another thread as the receiving thread queues and journals it. */
export function threadMessageEvent(message: ThreadMessage): ThreadMessageReceivedEvent {
  const { id, content, fromThreadId, fromAgentName } = message;
  return {
    type: 'agent.thread_message_received',
    id,
    processed_at: null,
    content,
    from_session_thread_id: fromThreadId,
    from_agent_name: fromAgentName,
  };
}
