// A model response's tool calls, announced on the journal as their route and permission policy say: the calls that
// may run now are returned; the others are parked as pending actions (a confirmation, a custom tool's result, a
// runner's result) for the loop to wait on. Synchronous: it adds no await, so the loop's commands keep their order.
import type { ToolUseBlock } from '../domain/model.ts';
import { routeSessionTool } from '../domain/runner-routing.ts';
import type { SessionStats, SessionWorkflowInput } from '../domain/session.ts';
import type { EventJournal } from './event-journal.ts';
import type { McpSessionTools } from './mcp-session.ts';
import { awaitingRunner, type PendingEntry, type RunnerWork } from './runner-work.ts';
import type { ToolCall } from './tool-execution.ts';
import { announceToolUse, emitToolResult } from './tool-events.ts';

/** What announcing needs from the session: its input, journal, tools, runner work, pending actions and stats. */
export interface AnnouncementHost {
  input: SessionWorkflowInput;
  journal: EventJournal;
  mcp: McpSessionTools;
  runnerWork: RunnerWork;
  pending: Map<string, PendingEntry>;
  stats: SessionStats;
}

/** Journals each call as its route and policy say; answers the calls that may run now, parks the others. */
export function announceToolCalls(host: AnnouncementHost, uses: ToolUseBlock[]): ToolCall[] {
  const { input, journal, mcp, runnerWork, pending, stats } = host;
  const runNow: ToolCall[] = [];
  for (const use of uses) {
    const call: ToolCall = {
      eventId: journal.newId(),
      name: use.name,
      input: use.input,
      route: routeSessionTool(input.agent, input.environment, use.name, mcp.entries),
    };
    const { route } = call;
    const invalid = runnerWork.invalidInput(call);
    if (route.kind === 'custom') {
      journal.emit({ type: 'agent.custom_tool_use', id: call.eventId, name: call.name, input: call.input });
      pending.set(call.eventId, { eventId: call.eventId, kind: 'custom_tool_result', name: call.name, call });
    } else if (route.kind === 'unknown' || invalid !== undefined) {
      announceToolUse(journal, call, 'deny');
      emitToolResult(journal, call, invalid ?? `There is no tool named "${call.name}".`, true);
    } else if (route.kind === 'mcp') {
      if (mcp.announce(call, route.entry) === 'allow') runNow.push(call);
      else pending.set(call.eventId, { eventId: call.eventId, kind: 'confirmation', name: call.name, call });
    } else if (route.policy === 'always_ask') {
      announceToolUse(journal, call, 'ask');
      pending.set(call.eventId, { eventId: call.eventId, kind: 'confirmation', name: call.name, call });
    } else {
      announceToolUse(journal, call, 'allow');
      if (route.kind === 'runner') {
        stats.toolCalls++;
        pending.set(call.eventId, awaitingRunner(call));
      } else runNow.push(call);
    }
  }
  return runNow;
}
