// Session threads (Anthropic's multiagent sessions): the primary thread is the session's own workflow and event log;
// every other thread is a child workflow (`session-<sthr_…>`) with its own log keyed by its thread id, started when the
// coordinator delegates. A thread reports to the primary thread (status, what it awaits from the client, its reply,
// its usage); the primary journals the `session.thread_*` events, routes the client's answers and interrupts, and
// counts the threads' usage as the session's. These are the shapes both sides share.
import type { AgentSnapshot } from './agent.ts';
import type { RefusalStopDetails, StopReason } from './events.ts';
import { idPrefix } from './ids.ts';
import type { ModelUsage } from './model.ts';
import type { PendingAction } from './session.ts';

/** The API's limits: a roster of 1–20 distinct agents, at most one `self`, and depth 1 (no roster agent coordinates). */
export const maxRosterEntries = 20;
/** Threads one session may create (this platform's cap; the API states none). */
export const maxThreadsPerSession = 50;

/** What a thread's workflow knows of its place in the session. */
export interface ThreadContext {
  /** The session the thread belongs to: usage is metered against it. */
  sessionId: string;
  threadId: string;
  agentName: string;
  /** The primary thread's workflow id, which the thread reports to. */
  parentWorkflowId: string;
  parentThreadId: string;
}

/** A call a thread waits on the client for (a confirmation or a custom tool result). */
export interface AwaitedThreadCall {
  eventId: string;
  kind: Exclude<PendingAction['kind'], 'tool_result'>;
  name: string;
  input: Record<string, unknown>;
}

export type ThreadStatus = 'running' | 'idle' | 'terminated';

/** A thread's report to the primary thread, sent on every status change. */
export interface ThreadReport {
  threadId: string;
  status: ThreadStatus;
  stopReason?: StopReason;
  /** A refusal's details (absent otherwise). */
  stopDetails?: RefusalStopDetails;
  /** What the thread awaits from the client (on `idle` with `requires_action`). */
  awaiting?: AwaitedThreadCall[];
  /** The end of a turn: the thread's answer to the message that started it. */
  reply?: { text: string; isError: boolean };
  /** The thread's cumulative usage. */
  usage: ModelUsage;
}

/** A thread as the primary thread remembers it (carried across continue-as-new). */
export interface ThreadRecord {
  threadId: string;
  agentName: string;
  status: ThreadStatus;
  archived: boolean;
  usage: ModelUsage;
}

/** The primary thread's public id: the session id's random part under the thread prefix. */
export const primaryThreadId = (sessionId: string): string =>
  `${idPrefix.thread}${sessionId.slice(idPrefix.session.length)}`;

/** The agents a coordinator may spawn, by the name the model uses. */
export function rosterOf(agent: AgentSnapshot): Map<string, AgentSnapshot> {
  return new Map((agent.multiagent?.agents ?? []).map((entry) => [entry.name, entry]));
}
