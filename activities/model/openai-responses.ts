// OpenAI Responses API adapter. Stateless on purpose (`store: false`, the whole transcript every call): the session
// workflow owns the conversation, so nothing depends on state kept at the provider.
import OpenAI from 'openai';
import type {
  FunctionTool,
  Response,
  ResponseCreateParamsStreaming,
  ResponseInputItem,
  ResponseStreamEvent,
} from 'openai/resources/responses/responses';
import {
  emptyModelUsage,
  type ModelMessage,
  type ModelRequest,
  type ModelResponse,
  type ModelStopReason,
} from '../../domain/model.ts';
import { ContentAccumulator } from './content-accumulator.ts';
import { callClassifyingErrors, ModelStreamError } from './errors.ts';
import type { ModelAdapter, ModelCallOptions } from './adapter.ts';
import { openAiDefaultBaseUrl, toolErrorPrefix } from './openai-chat.ts';

function toInputItems(message: ModelMessage): ResponseInputItem[] {
  if (message.role === 'assistant') {
    return message.content.flatMap((block): ResponseInputItem[] => {
      if (block.type === 'tool_use') {
        return [{ type: 'function_call', call_id: block.id, name: block.name, arguments: JSON.stringify(block.input) }];
      }
      return block.text === '' ? [] : [{ type: 'message', role: 'assistant', content: block.text }];
    });
  }
  const items: ResponseInputItem[] = [];
  for (const block of message.content) {
    if (block.type === 'tool_result') {
      const text = block.content.map((part) => part.text).join('');
      items.push({
        type: 'function_call_output',
        call_id: block.toolUseId,
        output: block.isError ? `${toolErrorPrefix}${text}` : text,
      });
    }
  }
  const texts = message.content.flatMap((block) => (block.type === 'text' && block.text !== '' ? [block.text] : []));
  if (texts.length > 0) {
    items.push({
      type: 'message',
      role: 'user',
      content: texts.map((text) => ({ type: 'input_text' as const, text })),
    });
  }
  return items;
}

export function toResponsesRequest(request: ModelRequest): ResponseCreateParamsStreaming {
  // Our tool schemas are not written for strict mode (optional properties, open objects), so strict stays off.
  const tools: FunctionTool[] = request.tools.map((tool) => ({
    type: 'function',
    name: tool.name,
    description: tool.description,
    parameters: tool.inputSchema,
    strict: false,
  }));
  return {
    model: request.model.id,
    input: request.messages.flatMap(toInputItems),
    ...(request.system ? { instructions: request.system } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    max_output_tokens: request.maxOutputTokens,
    store: false,
    stream: true,
  };
}

function toStopReason(response: Response, hasToolUse: boolean): ModelStopReason {
  if (response.status === 'incomplete') {
    return response.incomplete_details?.reason === 'content_filter' ? 'refusal' : 'max_tokens';
  }
  return hasToolUse ? 'tool_use' : 'end_turn';
}

async function streamTurn(request: ModelRequest, options: ModelCallOptions): Promise<ModelResponse> {
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: request.model.baseUrl ?? openAiDefaultBaseUrl,
    organization: null, // never picked up from the worker's environment: the credential alone decides
    project: null,
    maxRetries: 0, // Temporal owns retries
    defaultHeaders: options.defaultHeaders,
    fetch: options.fetch,
  });
  const stream = await client.responses.create(toResponsesRequest(request), { signal: options.signal });
  const accumulator = new ContentAccumulator(options.onPart);
  let finished: Response | undefined;
  let refused = false;

  for await (const event of stream as AsyncIterable<ResponseStreamEvent>) {
    switch (event.type) {
      case 'response.output_item.added':
        if (event.item.type === 'function_call') {
          accumulator.startToolUse(String(event.output_index), event.item.call_id, event.item.name);
        }
        break;
      case 'response.output_text.delta':
        accumulator.appendText(String(event.output_index), event.delta);
        break;
      case 'response.refusal.delta':
        // A refusal is the model's answer to the user, so it is kept as text.
        refused = true;
        accumulator.appendText(String(event.output_index), event.delta);
        break;
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        accumulator.appendThinking(String(event.output_index), event.delta);
        break;
      case 'response.function_call_arguments.delta':
        accumulator.appendToolArguments(String(event.output_index), event.delta);
        break;
      case 'response.function_call_arguments.done':
        accumulator.setToolArguments(String(event.output_index), event.arguments);
        break;
      case 'response.output_item.done':
        if (event.item.type === 'function_call') {
          accumulator.startToolUse(String(event.output_index), event.item.call_id, event.item.name);
          accumulator.setToolArguments(String(event.output_index), event.item.arguments);
        }
        break;
      case 'response.completed':
      case 'response.incomplete':
        finished = event.response;
        break;
      case 'response.failed': {
        const failure = event.response.error;
        throw new ModelStreamError(
          `response failed: ${failure?.code ?? 'unknown'}: ${failure?.message ?? ''}`,
          failure?.code,
        );
      }
      default:
        break;
    }
  }
  if (!finished) throw new ModelStreamError('the stream ended before response.completed');
  const usage = emptyModelUsage();
  if (finished.usage) {
    const cached = finished.usage.input_tokens_details?.cached_tokens ?? 0;
    // Our inputTokens count uncached input only (Anthropic's meaning), so providers add up alike.
    usage.inputTokens = finished.usage.input_tokens - cached;
    usage.cacheReadInputTokens = cached;
    usage.outputTokens = finished.usage.output_tokens;
  }
  return {
    model: finished.model,
    content: accumulator.content(),
    ...(accumulator.hasThinking() ? { thinking: true } : {}),
    stopReason: refused ? 'refusal' : toStopReason(finished, accumulator.hasToolUse()),
    usage,
  };
}

export const openAiResponsesAdapter: ModelAdapter = {
  call: (request, options) =>
    callClassifyingErrors(
      { provider: 'openai-responses', model: request.model.id, apiKey: options.apiKey },
      options.signal,
      () => streamTurn(request, options),
    ),
};
