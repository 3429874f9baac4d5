// Anthropic Messages API (POST /v1/messages) as the fake model server speaks it.
import { textOf, type DemoInput } from './demo.ts';
import { isRecord, lastOf, type FakeProtocol } from './protocol.ts';
import { chunkText, fakeId, type ResolvedTurn } from './script.ts';
import { sseFrame, type StreamFrame } from './sse.ts';

const errorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const errorBody = (status: number, message: string) => ({
  type: 'error',
  error: { type: errorTypes[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message },
});

function demoInput(body: Record<string, unknown>): DemoInput {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]).filter(isRecord) : [];
  const lastUser = lastOf(messages.filter((message) => message.role === 'user'));
  const content: unknown = lastUser?.content;
  if (Array.isArray(content)) {
    const toolResult = lastOf(
      (content as unknown[]).filter((block) => isRecord(block) && block.type === 'tool_result'),
    );
    if (isRecord(toolResult)) return { kind: 'tool_result', text: textOf(toolResult.content) };
  }
  return { kind: 'text', text: textOf(content) };
}

const usageJson = (turn: ResolvedTurn) => ({
  input_tokens: turn.usage.inputTokens,
  output_tokens: turn.usage.outputTokens,
  cache_creation_input_tokens: turn.usage.cacheCreationInputTokens,
  cache_read_input_tokens: turn.usage.cacheReadInputTokens,
});

function contentJson(turn: ResolvedTurn): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [];
  if (turn.thinking) blocks.push({ type: 'thinking', thinking: turn.thinking, signature: 'fake-signature' });
  if (turn.text) blocks.push({ type: 'text', text: turn.text, citations: null });
  for (const call of turn.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.input });
  return blocks;
}

function responseJson(turn: ResolvedTurn, model: string): unknown {
  return {
    id: fakeId('msg_'),
    type: 'message',
    role: 'assistant',
    model,
    content: contentJson(turn),
    stop_reason: turn.stopReason,
    stop_details: turn.stopDetails,
    stop_sequence: null,
    usage: usageJson(turn),
  };
}

function streamFrames(turn: ResolvedTurn, model: string): StreamFrame[] {
  const frames: StreamFrame[] = [
    sseFrame('message_start', {
      type: 'message_start',
      message: {
        ...(responseJson(turn, model) as Record<string, unknown>),
        content: [],
        stop_reason: null,
        stop_details: null,
        usage: { ...usageJson(turn), output_tokens: 1 },
      },
    }),
    sseFrame('ping', { type: 'ping' }),
  ];
  let index = 0;
  const block = (
    start: Record<string, unknown>,
    deltas: Record<string, unknown>[],
    closing: Record<string, unknown>[],
  ) => {
    frames.push(sseFrame('content_block_start', { type: 'content_block_start', index, content_block: start }));
    for (const delta of deltas)
      frames.push(sseFrame('content_block_delta', { type: 'content_block_delta', index, delta }, true));
    for (const delta of closing)
      frames.push(sseFrame('content_block_delta', { type: 'content_block_delta', index, delta }));
    frames.push(sseFrame('content_block_stop', { type: 'content_block_stop', index }));
    index += 1;
  };
  if (turn.thinking) {
    block(
      { type: 'thinking', thinking: '', signature: '' },
      chunkText(turn.thinking, turn.chunkSize).map((thinking) => ({ type: 'thinking_delta', thinking })),
      [{ type: 'signature_delta', signature: 'fake-signature' }],
    );
  }
  if (turn.text) {
    block(
      { type: 'text', text: '', citations: null },
      chunkText(turn.text, turn.chunkSize).map((text) => ({ type: 'text_delta', text })),
      [],
    );
  }
  for (const call of turn.toolCalls) {
    block(
      { type: 'tool_use', id: call.id, name: call.name, input: {} },
      chunkText(call.argumentsJson, turn.chunkSize).map((partial_json) => ({ type: 'input_json_delta', partial_json })),
      [],
    );
  }
  frames.push(
    sseFrame('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: turn.stopReason, stop_details: turn.stopDetails, stop_sequence: null },
      usage: usageJson(turn),
    }),
    sseFrame('message_stop', { type: 'message_stop' }),
  );
  return frames;
}

export const anthropicProtocol: FakeProtocol = {
  name: 'anthropic',
  paths: ['/v1/messages', '/messages'],
  toolIdPrefix: 'toolu_fake',
  requestIdHeader: 'request-id',
  demoInput,
  errorBody,
  responseJson,
  streamFrames,
  streamErrorFrame: (status, message) => sseFrame('error', errorBody(status, message)).data,
  malformedFrame: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"te\n\n',
};
