// The wait for the client that harnesses other than the native loop share (the native loop waits inline in
// session-runtime.ts, for its recorded commands): while calls await a confirmation or a custom tool result, the
// session idles with `requires_action` naming them, announced again after each partial answer; an interrupt ends the
// wait and drops what was awaited.
import { condition } from '@temporalio/workflow';
import type { ModelCallContext } from './model-call.ts';
import type { PendingEntry } from './runner-work.ts';

export interface ClientWaitHost extends Pick<ModelCallContext, 'status' | 'interrupted'> {
  session: { pending: Map<string, PendingEntry> };
}

/** Waits, idle with `requires_action`, until the client answered every open call (as the native loop does). */
export async function awaitClient(host: ClientWaitHost): Promise<'done' | 'interrupted'> {
  const { pending } = host.session;
  const open = () => [...pending.values()].filter((entry) => !entry.resolution);
  for (;;) {
    const waiting = open();
    if (waiting.length === 0) break;
    host.status.idle({ type: 'requires_action', event_ids: waiting.map((entry) => entry.eventId) });
    await condition(() => host.interrupted() || open().length < waiting.length);
    if (host.interrupted()) {
      pending.clear();
      return 'interrupted';
    }
  }
  host.status.running();
  return 'done';
}
