// The session workflow: one per agent session (id `session-<sesn_…>`). Thin on purpose: handlers and the loop live in
// SessionRuntime; this wires messages to it.
import { setHandler } from '@temporalio/workflow';
import { withSessionDefaults, type SessionWorkflowInput, type SubAgentResult } from '../domain/session.ts';
import {
  sessionStateQuery,
  sessionUpdatedSignal,
  terminateSessionSignal,
  userEventsSignal,
  userEventsUpdate,
  type IncomingUserEvent,
} from './messages.ts';
import { SessionRuntime } from './session-runtime.ts';
import {
  threadMessageSignal,
  threadReportSignal,
  threadSandboxRequestSignal,
  threadSandboxResultSignal,
} from './thread-messages.ts';
import { threadMessageEvent } from './thread-role.ts';

export async function sessionWorkflow(input: SessionWorkflowInput): Promise<SubAgentResult | undefined> {
  const runtime = new SessionRuntime(withSessionDefaults(input));
  setHandler(userEventsSignal, (events) => runtime.receive(events));
  setHandler(userEventsUpdate, (events) => runtime.receive(events), {
    validator: (events: IncomingUserEvent[]) => runtime.validate(events),
  });
  setHandler(terminateSessionSignal, ({ reason }) => runtime.requestTermination(reason));
  setHandler(sessionStateQuery, () => runtime.view());
  setHandler(sessionUpdatedSignal, (notice) => runtime.noteUpdate(notice));
  setHandler(threadReportSignal, (report) => runtime.threads.report(report));
  setHandler(threadMessageSignal, (message) => runtime.receiveThreadMessage(threadMessageEvent(message)));
  // The session's sandbox is shared by its threads (workflows/thread-sandbox.ts): served here, answered there.
  setHandler(threadSandboxRequestSignal, (request) => runtime.sandbox.serveThread(request));
  setHandler(threadSandboxResultSignal, (result) => runtime.sandbox.shared?.receive(result));
  return runtime.run();
}
