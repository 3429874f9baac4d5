// OpenAI Responses API (POST /v1/responses) as the fake model server speaks it.
import { textOf, type DemoInput } from './demo.ts';
import { openAiErrorBody } from './openai-chat-protocol.ts';
import { isRecord, lastOf, type FakeProtocol } from './protocol.ts';
import { chunkText, fakeId, type ResolvedTurn } from './script.ts';
import { sseFrame, type StreamFrame } from './sse.ts';

function demoInput(body: Record<string, unknown>): DemoInput {
  if (typeof body.input === 'string') return { kind: 'text', text: body.input };
  const items = Array.isArray(body.input) ? (body.input as unknown[]).filter(isRecord) : [];
  const last = lastOf(items.filter((item) => item.type === 'function_call_output' || item.role === 'user'));
  if (last?.type === 'function_call_output') return { kind: 'tool_result', text: textOf(last.output) };
  return { kind: 'text', text: textOf(last?.content) };
}

/** The output items of a finished response, in stream order, with the ids the stream events refer to. */
function outputItems(turn: ResolvedTurn): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  if (turn.thinking) {
    items.push({ id: fakeId('rs_'), type: 'reasoning', summary: [{ type: 'summary_text', text: turn.thinking }] });
  }
  if (turn.text) {
    items.push({
      id: fakeId('msg_'),
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: turn.text, annotations: [], logprobs: [] }],
    });
  }
  for (const call of turn.toolCalls) {
    items.push({
      id: fakeId('fc_'),
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.name,
      arguments: call.argumentsJson,
    });
  }
  return items;
}

function responseObject(
  turn: ResolvedTurn,
  model: string,
  id: string,
  output: Record<string, unknown>[],
  done: boolean,
) {
  const incomplete = turn.stopReason === 'max_tokens' || turn.stopReason === 'refusal';
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    model,
    status: !done ? 'in_progress' : incomplete ? 'incomplete' : 'completed',
    incomplete_details:
      done && incomplete ? { reason: turn.stopReason === 'refusal' ? 'content_filter' : 'max_output_tokens' } : null,
    error: null,
    output: done ? output : [],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: done
      ? {
          input_tokens: turn.usage.inputTokens + turn.usage.cacheReadInputTokens,
          input_tokens_details: { cached_tokens: turn.usage.cacheReadInputTokens },
          output_tokens: turn.usage.outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: turn.usage.inputTokens + turn.usage.cacheReadInputTokens + turn.usage.outputTokens,
        }
      : null,
  };
}

function streamFrames(turn: ResolvedTurn, model: string): StreamFrame[] {
  const id = fakeId('resp_');
  const items = outputItems(turn);
  const frames: StreamFrame[] = [];
  let sequence = 0;
  const event = (type: string, fields: Record<string, unknown>, content = false) =>
    frames.push(sseFrame(type, { type, sequence_number: sequence++, ...fields }, content));

  event('response.created', { response: responseObject(turn, model, id, items, false) });
  event('response.in_progress', { response: responseObject(turn, model, id, items, false) });
  items.forEach((item, outputIndex) => {
    const itemId = item.id as string;
    const at = { item_id: itemId, output_index: outputIndex };
    if (item.type === 'reasoning') {
      event('response.output_item.added', { output_index: outputIndex, item: { ...item, summary: [] } });
      event('response.reasoning_summary_part.added', {
        ...at,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      });
      for (const delta of chunkText(turn.thinking, turn.chunkSize)) {
        event('response.reasoning_summary_text.delta', { ...at, summary_index: 0, delta }, true);
      }
      event('response.reasoning_summary_text.done', { ...at, summary_index: 0, text: turn.thinking });
    } else if (item.type === 'message') {
      event('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', content: [] },
      });
      const part = { ...at, content_index: 0 };
      event('response.content_part.added', { ...part, part: { type: 'output_text', text: '', annotations: [] } });
      for (const delta of chunkText(turn.text, turn.chunkSize)) {
        event('response.output_text.delta', { ...part, delta, logprobs: [] }, true);
      }
      event('response.output_text.done', { ...part, text: turn.text, logprobs: [] });
      event('response.content_part.done', { ...part, part: { type: 'output_text', text: turn.text, annotations: [] } });
    } else {
      const argumentsJson = item.arguments as string;
      event('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', arguments: '' },
      });
      for (const delta of chunkText(argumentsJson, turn.chunkSize)) {
        event('response.function_call_arguments.delta', { ...at, delta }, true);
      }
      event('response.function_call_arguments.done', { ...at, arguments: argumentsJson });
    }
    event('response.output_item.done', { output_index: outputIndex, item });
  });
  const finished = responseObject(turn, model, id, items, true);
  event(finished.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: finished });
  return frames;
}

export const openAiResponsesProtocol: FakeProtocol = {
  name: 'openai-responses',
  paths: ['/v1/responses', '/responses'],
  toolIdPrefix: 'call_fake',
  requestIdHeader: 'x-request-id',
  demoInput,
  errorBody: openAiErrorBody,
  responseJson: (turn, model) => responseObject(turn, model, fakeId('resp_'), outputItems(turn), true),
  streamFrames,
  streamErrorFrame: (status, message) =>
    sseFrame('response.failed', {
      type: 'response.failed',
      sequence_number: 9999,
      response: {
        id: fakeId('resp_'),
        object: 'response',
        status: 'failed',
        output: [],
        usage: null,
        error: {
          code: status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_prompt',
          message,
        },
      },
    }).data,
  malformedFrame: 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":\n\n',
};
