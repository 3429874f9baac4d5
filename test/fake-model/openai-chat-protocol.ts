// OpenAI Chat Completions (POST /v1/chat/completions) as the fake model server speaks it.
import { textOf, type DemoInput } from './demo.ts';
import { isRecord, lastOf, type FakeProtocol } from './protocol.ts';
import { chunkText, fakeId, type ResolvedTurn } from './script.ts';
import { sseFrame, type StreamFrame } from './sse.ts';

const finishReasons = {
  end_turn: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  refusal: 'content_filter',
} as const;

export const openAiErrorBody = (status: number, message: string): unknown => ({
  error: {
    message,
    type: status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error',
    param: null,
    code: status === 401 ? 'invalid_api_key' : status === 429 ? 'rate_limit_exceeded' : null,
  },
});

function demoInput(body: Record<string, unknown>): DemoInput {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]).filter(isRecord) : [];
  const last = lastOf(messages.filter((message) => message.role === 'user' || message.role === 'tool'));
  if (last?.role === 'tool') return { kind: 'tool_result', text: textOf(last.content) };
  return { kind: 'text', text: textOf(last?.content) };
}

const usageJson = (turn: ResolvedTurn) => {
  const prompt = turn.usage.inputTokens + turn.usage.cacheReadInputTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: turn.usage.outputTokens,
    total_tokens: prompt + turn.usage.outputTokens,
    prompt_tokens_details: { cached_tokens: turn.usage.cacheReadInputTokens },
  };
};

function responseJson(turn: ResolvedTurn, model: string): unknown {
  const toolCalls = turn.toolCalls.map((call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: call.argumentsJson },
  }));
  return {
    id: fakeId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: turn.text || null,
          refusal: null,
          ...(turn.thinking ? { reasoning_content: turn.thinking } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReasons[turn.stopReason],
      },
    ],
    usage: usageJson(turn),
  };
}

function streamFrames(turn: ResolvedTurn, model: string, body: Record<string, unknown>): StreamFrame[] {
  const id = fakeId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const frames: StreamFrame[] = [sseFrame(undefined, chunk({ role: 'assistant', content: '', refusal: null }))];
  for (const piece of chunkText(turn.thinking, turn.chunkSize)) {
    frames.push(sseFrame(undefined, chunk({ reasoning_content: piece }), true));
  }
  for (const piece of chunkText(turn.text, turn.chunkSize))
    frames.push(sseFrame(undefined, chunk({ content: piece }), true));
  turn.toolCalls.forEach((call, index) => {
    frames.push(
      sseFrame(
        undefined,
        chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
      ),
    );
    for (const piece of chunkText(call.argumentsJson, turn.chunkSize)) {
      frames.push(sseFrame(undefined, chunk({ tool_calls: [{ index, function: { arguments: piece } }] }), true));
    }
  });
  frames.push(sseFrame(undefined, chunk({}, finishReasons[turn.stopReason])));
  if (includeUsage) {
    frames.push(
      sseFrame(undefined, { id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageJson(turn) }),
    );
  }
  frames.push(sseFrame(undefined, '[DONE]'));
  return frames;
}

export const openAiChatProtocol: FakeProtocol = {
  name: 'openai-chat',
  paths: ['/v1/chat/completions', '/chat/completions'],
  toolIdPrefix: 'call_fake',
  requestIdHeader: 'x-request-id',
  demoInput,
  errorBody: openAiErrorBody,
  responseJson,
  streamFrames,
  // Chat Completions has no error event; servers put an `error` object in a data line.
  streamErrorFrame: (status, message) => sseFrame(undefined, openAiErrorBody(status, message)).data,
  malformedFrame: 'data: {"id":"chatcmpl-broken","choices":[{"delta":{"content":\n\n',
};
