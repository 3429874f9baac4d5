// Messages between a session's threads (workflows/threads.ts): a thread reports to the primary thread, and a thread
// receives the messages other threads send it. Module-level definitions, like workflows/messages.ts.
import { defineSignal } from '@temporalio/workflow';
import type { TextContent } from '../domain/events.ts';
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
