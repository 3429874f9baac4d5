// Tool calls, grouped by tool_use id: agent.tool_use / agent.custom_tool_use / agent.mcp_tool_use open one (awaiting when it needs the
// client), user.tool_confirmation decides an `ask` tool, user.custom_tool_result or agent.tool_result closes it — or,
// in a self-hosted environment, the runner's user.tool_result.
import type { EventOf, Reducers } from './reducer.ts';
import type { ToolSpan, WrittenFile } from './schema.ts';
import { closeSpan, type TraceState } from './state.ts';
import { between, cut, textOf } from './time-and-text.ts';

/** What a write or edit call puts in a file, for the trace's file preview. */
function writtenFile(name: string, input: Record<string, unknown>, max: number): WrittenFile | null {
  // `file_path`: the input shape of a self-hosted environment's runner.
  const given = input.path ?? input.file_path;
  const path = typeof given === 'string' ? given : null;
  if (!path) return null;
  if (name === 'write' && typeof input.content === 'string') {
    return { path, operation: 'write', preview: cut(input.content, max), old_preview: null };
  }
  if (name === 'edit' && typeof input.new_string === 'string') {
    const old = typeof input.old_string === 'string' ? cut(input.old_string, max) : null;
    return { path, operation: 'edit', preview: cut(input.new_string, max), old_preview: old };
  }
  return null;
}

function openTool(
  state: TraceState,
  event: EventOf<'agent.tool_use'> | EventOf<'agent.custom_tool_use'> | EventOf<'agent.mcp_tool_use'>,
  at: string | null,
): void {
  const custom = event.type === 'agent.custom_tool_use';
  const mcp = event.type === 'agent.mcp_tool_use';
  const permission = custom ? null : (event.evaluated_permission ?? null);
  const span: ToolSpan = {
    kind: 'tool',
    id: event.id,
    name: event.name,
    tool_kind: custom ? 'custom_tool' : mcp ? 'mcp_tool' : 'tool',
    ...(mcp ? { mcp_server_name: event.mcp_server_name } : {}),
    permission,
    status: custom || permission === 'ask' ? 'awaiting' : 'running',
    input: event.input,
    output_preview: null,
    output_chars: 0,
    is_error: null,
    model_request_id: state.lastModelRequest?.id ?? null,
    confirmation: null,
    custom_result_event_id: null,
    wait_ms: null,
    file: custom || mcp ? null : writtenFile(event.name, event.input, state.previewChars),
    sub_agent: null,
    started_at: at,
    ended_at: null,
    duration_ms: null,
  };
  state.lastModelRequest?.tool_use_ids.push(event.id);
  state.tools.set(event.id, span);
  state.totals.tool_calls++;
  const turn = state.openTurn;
  if (turn) turn.tool_calls++;
  state.place(span);
}

export const toolReducers: Reducers = {
  'agent.tool_use': openTool,
  'agent.custom_tool_use': openTool,
  'agent.mcp_tool_use': openTool,

  'user.tool_confirmation': (state, event, at) => {
    state.openWait?.answered_by.push(event.id);
    const span = state.tools.get(event.tool_use_id);
    if (!span) return;
    span.confirmation = {
      event_id: event.id,
      result: event.result,
      deny_message: event.deny_message ?? null,
      answered_at: at,
      by: 'user',
    };
    span.wait_ms = between(span.started_at, at);
    span.status = event.result === 'allow' ? 'running' : 'denied';
  },

  'user.custom_tool_result': (state, event, at) => {
    state.openWait?.answered_by.push(event.id);
    const span = state.tools.get(event.custom_tool_use_id);
    if (!span) return;
    const text = textOf(event.content);
    span.custom_result_event_id = event.id;
    span.output_preview = cut(text, state.previewChars);
    span.output_chars = text.length;
    span.is_error = event.is_error ?? false;
    span.status = span.is_error ? 'error' : 'ok';
    span.wait_ms = between(span.started_at, at);
    closeSpan(span, at);
  },

  'user.tool_result': (state, event, at) => {
    const span = state.tools.get(event.tool_use_id);
    if (!span) return;
    const text = textOf(event.content);
    span.output_preview = cut(text, state.previewChars);
    span.output_chars = text.length;
    span.is_error = event.is_error ?? false;
    span.status = span.is_error ? 'error' : 'ok';
    closeSpan(span, at);
  },

  'agent.tool_result': (state, event, at) => closeToolSpan(state, event.tool_use_id, event, at),
  'agent.mcp_tool_result': (state, event, at) => closeToolSpan(state, event.mcp_tool_use_id, event, at),
};

function closeToolSpan(
  state: TraceState,
  toolUseId: string,
  event: EventOf<'agent.tool_result'> | EventOf<'agent.mcp_tool_result'>,
  at: string | null,
): void {
  const span = state.tools.get(toolUseId);
  if (!span) return;
  const text = (event.content ?? []).map((block) => block.text).join('');
  span.output_preview = cut(text, state.previewChars);
  span.output_chars = text.length;
  span.is_error = event.is_error ?? false;
  if (span.status !== 'denied') span.status = span.is_error ? 'error' : 'ok';
  closeSpan(span, at);
}
