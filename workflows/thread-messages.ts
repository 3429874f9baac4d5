// Messages between a session's threads (workflows/threads.ts): a thread reports to the primary thread, and a thread
// receives the messages other threads send it. Module-level definitions, like workflows/messages.ts.
import { defineSignal } from '@temporalio/workflow';
import type { TextContent } from '../domain/events.ts';
import type { ToolOutcome } from '../domain/sandbox.ts';
import type { ThreadReport } from '../domain/threads.ts';

/** A thread's status change, what it awaits from the client, its reply and its usage, sent to the primary thread. */
export const threadReportSignal = defineSignal<[ThreadReport]>('threadReport');

/** A message from another thread: the receiving thread starts a turn with it (`agent.thread_message_received`). */
export interface ThreadMessage {
  /** The `agent.thread_message_received` event id (assigned by the sender: idempotent). */
  id: string;
  content: TextContent[];
  fromThreadId: string;
  fromAgentName: string | null;
}

export const threadMessageSignal = defineSignal<[ThreadMessage]>('threadMessage');

/** A thread's sandboxed tool call, run on the session's sandbox by the primary thread (workflows/thread-sandbox.ts). */
export interface ThreadSandboxRequest {
  /** The thread's own tool use id (unique in the session). */
  toolUseId: string;
  name: string;
  input: Record<string, unknown>;
  /** The thread's workflow id, where the result goes. */
  replyTo: string;
}

export interface ThreadSandboxResult {
  toolUseId: string;
  outcome: ToolOutcome;
}

export const threadSandboxRequestSignal = defineSignal<[ThreadSandboxRequest]>('threadSandboxRequest');
export const threadSandboxResultSignal = defineSignal<[ThreadSandboxResult]>('threadSandboxResult');
