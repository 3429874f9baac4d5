// OpenAI Chat Completions adapter, also used for any OpenAI-compatible server (vLLM, Ollama, proxies) by base URL.
import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions/completions';
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

export const openAiDefaultBaseUrl = 'https://api.openai.com/v1';

/** OpenAI has no error flag on tool results, so an error says so in its text. */
export const toolErrorPrefix = 'Error: ';

function toChatMessages(message: ModelMessage): ChatCompletionMessageParam[] {
  if (message.role === 'assistant') {
    const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
    const toolCalls = message.content.flatMap((block) =>
      block.type === 'tool_use'
        ? [
            {
              id: block.id,
              type: 'function' as const,
              function: { name: block.name, arguments: JSON.stringify(block.input) },
            },
          ]
        : [],
    );
    return [
      {
        role: 'assistant',
        content: text === '' ? null : text,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
    ];
  }
  // Tool messages must directly follow the assistant message that made the calls, so they go before the user's text.
  const messages: ChatCompletionMessageParam[] = [];
  for (const block of message.content) {
    if (block.type !== 'tool_result') continue;
    const text = block.content.map((part) => part.text).join('');
    messages.push({
      role: 'tool',
      tool_call_id: block.toolUseId,
      content: block.isError ? `${toolErrorPrefix}${text}` : text,
    });
  }
  const text = message.content
    .flatMap((block) => (block.type === 'text' && block.text !== '' ? [block.text] : []))
    .join('\n\n');
  if (text !== '') messages.push({ role: 'user', content: text });
  return messages;
}

export function toChatRequest(request: ModelRequest): ChatCompletionCreateParamsStreaming {
  const tools: ChatCompletionTool[] = request.tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  }));
  return {
    model: request.model.id,
    messages: [
      ...(request.system ? [{ role: 'system' as const, content: request.system }] : []),
      ...request.messages.flatMap(toChatMessages),
    ],
    ...(tools.length > 0 ? { tools } : {}),
    max_completion_tokens: request.maxOutputTokens,
    stream: true,
    stream_options: { include_usage: true },
  };
}

function toStopReason(finishReason: string | null, hasToolUse: boolean): ModelStopReason {
  switch (finishReason) {
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'length':
      return 'max_tokens';
    case 'content_filter':
      return 'refusal';
    default:
      return hasToolUse ? 'tool_use' : 'end_turn';
  }
}

// Reasoning text as OpenAI-compatible servers stream it (DeepSeek, vLLM: reasoning_content; others: reasoning).
function reasoningOf(delta: ChatCompletionChunk.Choice.Delta): string | undefined {
  const extended = delta as { reasoning_content?: unknown; reasoning?: unknown };
  const reasoning = extended.reasoning_content ?? extended.reasoning;
  return typeof reasoning === 'string' ? reasoning : undefined;
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
  const stream = await client.chat.completions.create(toChatRequest(request), { signal: options.signal });
  const accumulator = new ContentAccumulator(options.onPart);
  const usage = emptyModelUsage();
  let model = request.model.id;
  let finishReason: string | null = null;
  let refused = false;

  for await (const chunk of stream) {
    if (chunk.model) model = chunk.model;
    if (chunk.usage) {
      const cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
      // Our inputTokens count uncached input only (Anthropic's meaning), so the two providers add up alike.
      usage.inputTokens = chunk.usage.prompt_tokens - cached;
      usage.cacheReadInputTokens = cached;
      usage.outputTokens = chunk.usage.completion_tokens;
    }
    const choice = chunk.choices[0];
    if (!choice) continue;
    const reasoning = reasoningOf(choice.delta);
    if (reasoning) accumulator.appendThinking('reasoning', reasoning);
    if (choice.delta.content) accumulator.appendText('text', choice.delta.content);
    // A refusal is the model's answer to the user, so it is kept as text.
    if (choice.delta.refusal) {
      refused = true;
      accumulator.appendText('text', choice.delta.refusal);
    }
    for (const call of choice.delta.tool_calls ?? []) {
      const key = `tool:${call.index}`;
      if (call.id || call.function?.name) accumulator.startToolUse(key, call.id ?? '', call.function?.name ?? '');
      if (call.function?.arguments) accumulator.appendToolArguments(key, call.function.arguments);
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }
  if (finishReason === null) throw new ModelStreamError('the stream ended without a finish_reason');
  return {
    model,
    content: accumulator.content(),
    ...(accumulator.hasThinking() ? { thinking: true } : {}),
    stopReason: refused ? 'refusal' : toStopReason(finishReason, accumulator.hasToolUse()),
    usage,
  };
}

export const openAiChatAdapter: ModelAdapter = {
  call: (request, options) =>
    callClassifyingErrors(
      { provider: 'openai-chat', model: request.model.id, apiKey: options.apiKey },
      options.signal,
      () => streamTurn(request, options),
    ),
};
