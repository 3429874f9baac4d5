// The tool-call events the session journals: the announcement of a call and its result (MCP calls have their own
// event types), and the limit error that ends a turn.
import type { EventJournal } from './event-journal.ts';
import type { ToolCall } from './tool-execution.ts';

export function announceToolUse(journal: EventJournal, call: ToolCall, permission: 'allow' | 'ask' | 'deny'): void {
  const { eventId: id, name, input } = call;
  journal.emit({ type: 'agent.tool_use', id, name, input, evaluated_permission: permission });
}

export function emitToolResult(journal: EventJournal, call: ToolCall, text: string, isError: boolean): void {
  const content = [{ type: 'text' as const, text }];
  if (call.route.kind === 'mcp') {
    journal.emit({ type: 'agent.mcp_tool_result', mcp_tool_use_id: call.eventId, content, is_error: isError });
  } else {
    journal.emit({ type: 'agent.tool_result', tool_use_id: call.eventId, content, is_error: isError });
  }
}

export function emitLimitError(journal: EventJournal, type: string, message: string): void {
  journal.emit({ type: 'session.error', error: { type, message, retry_status: { type: 'exhausted' } } });
}
