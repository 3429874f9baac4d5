// Anthropic Messages API adapter: streams one turn through `@anthropic-ai/sdk` and maps it to the neutral model wire.
import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
  StopReason,
  Tool,
} from '@anthropic-ai/sdk/resources/messages/messages';
import {
  emptyModelUsage,
  type ModelMessage,
  type ModelRequest,
  type ModelResponse,
  type ModelStopReason,
} from '../../domain/model.ts';
import { refusalDetails, type RefusalStopDetails } from '../../domain/events.ts';
import { ContentAccumulator } from './content-accumulator.ts';
import { callClassifyingErrors, ModelStreamError } from './errors.ts';
import type { ModelAdapter, ModelCallOptions } from './adapter.ts';

export const anthropicDefaultBaseUrl = 'https://api.anthropic.com';

function toAnthropicMessage(message: ModelMessage): MessageParam {
  if (message.role === 'assistant') {
    const content: ContentBlockParam[] = message.content.flatMap((block): ContentBlockParam[] => {
      if (block.type === 'tool_use') return [{ type: 'tool_use', id: block.id, name: block.name, input: block.input }];
      return block.text === '' ? [] : [{ type: 'text', text: block.text }];
    });
    return { role: 'assistant', content };
  }
  // The API wants a user turn's tool results before any text; empty text blocks are rejected outright.
  const toolResults: ContentBlockParam[] = [];
  const texts: ContentBlockParam[] = [];
  for (const block of message.content) {
    if (block.type === 'tool_result') {
      toolResults.push({
        type: 'tool_result',
        tool_use_id: block.toolUseId,
        is_error: block.isError,
        content: block.content.filter((part) => part.text !== '').map((part) => ({ type: 'text', text: part.text })),
      });
    } else if (block.text !== '') {
      texts.push({ type: 'text', text: block.text });
    }
  }
  return { role: 'user', content: [...toolResults, ...texts] };
}

export function toAnthropicRequest(request: ModelRequest): MessageCreateParamsStreaming {
  const tools: Tool[] = request.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    input_schema: { type: 'object', ...tool.inputSchema },
  }));
  return {
    model: request.model.id,
    max_tokens: request.maxOutputTokens,
    messages: request.messages.map(toAnthropicMessage),
    ...(request.system ? { system: request.system } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    stream: true,
  };
}

function toStopReason(stopReason: StopReason | null | undefined, hasToolUse: boolean): ModelStopReason {
  switch (stopReason) {
    case 'end_turn':
    case 'tool_use':
    case 'max_tokens':
    case 'stop_sequence':
    case 'refusal':
      return stopReason;
    case 'model_context_window_exceeded':
      return 'max_tokens';
    default:
      // pause_turn (server tools) and anything newer: let the loop decide from the content.
      return hasToolUse ? 'tool_use' : 'end_turn';
  }
}

async function streamTurn(request: ModelRequest, options: ModelCallOptions): Promise<ModelResponse> {
  const client = new Anthropic({
    apiKey: options.apiKey,
    baseURL: request.model.baseUrl ?? anthropicDefaultBaseUrl,
    maxRetries: 0, // Temporal owns retries
    defaultHeaders: options.defaultHeaders,
    fetch: options.fetch,
  });
  const stream = await client.messages.create(toAnthropicRequest(request), { signal: options.signal });
  const accumulator = new ContentAccumulator(options.onPart);
  const usage = emptyModelUsage();
  let model = request.model.id;
  let stopReason: StopReason | null = null;
  let stopDetails: RefusalStopDetails | undefined;
  let stopped = false;

  for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
    switch (event.type) {
      case 'message_start':
        model = event.message.model;
        usage.inputTokens = event.message.usage.input_tokens;
        usage.outputTokens = event.message.usage.output_tokens;
        usage.cacheReadInputTokens = event.message.usage.cache_read_input_tokens ?? 0;
        usage.cacheCreationInputTokens = event.message.usage.cache_creation_input_tokens ?? 0;
        break;
      case 'content_block_start': {
        const block = event.content_block;
        const key = String(event.index);
        if (block.type === 'tool_use') accumulator.startToolUse(key, block.id, block.name);
        else if (block.type === 'text') accumulator.appendText(key, block.text);
        else if (block.type === 'thinking') accumulator.appendThinking(key, block.thinking);
        break;
      }
      case 'content_block_delta': {
        const delta = event.delta;
        const key = String(event.index);
        if (delta.type === 'text_delta') accumulator.appendText(key, delta.text);
        else if (delta.type === 'thinking_delta') accumulator.appendThinking(key, delta.thinking);
        else if (delta.type === 'input_json_delta') accumulator.appendToolArguments(key, delta.partial_json);
        break;
      }
      case 'message_delta':
        stopReason = event.delta.stop_reason;
        if (event.delta.stop_details?.type === 'refusal') {
          stopDetails = refusalDetails(event.delta.stop_details.category, event.delta.stop_details.explanation);
        }
        // message_delta usage is cumulative; fields the provider leaves null keep message_start's value.
        usage.outputTokens = event.usage.output_tokens;
        usage.inputTokens = event.usage.input_tokens ?? usage.inputTokens;
        usage.cacheReadInputTokens = event.usage.cache_read_input_tokens ?? usage.cacheReadInputTokens;
        usage.cacheCreationInputTokens = event.usage.cache_creation_input_tokens ?? usage.cacheCreationInputTokens;
        break;
      case 'message_stop':
        stopped = true;
        break;
      default:
        break;
    }
  }
  if (!stopped) throw new ModelStreamError('the stream ended before message_stop');
  return {
    model,
    content: accumulator.content(),
    ...(accumulator.hasThinking() ? { thinking: true } : {}),
    stopReason: toStopReason(stopReason, accumulator.hasToolUse()),
    ...(stopReason === 'refusal' ? { stopDetails: stopDetails ?? refusalDetails() } : {}),
    usage,
  };
}

export const anthropicAdapter: ModelAdapter = {
  call: (request, options) =>
    callClassifyingErrors(
      { provider: 'anthropic', model: request.model.id, apiKey: options.apiKey },
      options.signal,
      () => streamTurn(request, options),
    ),
};
