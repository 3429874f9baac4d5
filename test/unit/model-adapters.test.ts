// The provider adapters against the fake model server, through the real SDKs: request shapes, streaming, usage,
// tool calls, failure classification and aborts, for each of the three wire protocols.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adapterFor, type ModelCallOptions } from '../../activities/model/adapter.ts';
import { FailureType } from '../../domain/errors.ts';
import type { ModelMessage, ModelProvider, ModelRequest, ModelResponse, ModelStreamPart } from '../../domain/model.ts';
import type { FakeTurn } from '../fake-model/script.ts';
import { startFakeModelServer, type FakeModelServer } from '../fake-model/server.ts';

const apiKey = 'sk-test-secret-key-0123456789abcdef';
let server: FakeModelServer;

beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => {
  await server.close();
});

const providers: ModelProvider[] = ['anthropic', 'openai-chat', 'openai-responses'];

const baseUrlFor = (provider: ModelProvider): string => (provider === 'anthropic' ? server.url : `${server.url}/v1`);

const bashTool = {
  name: 'bash',
  description: 'Run a shell command',
  inputSchema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
};

function scripted(provider: ModelProvider, turns: FakeTurn[]): string {
  const model = `${provider}-${randomUUID()}`;
  server.setScript(model, turns);
  return model;
}

function requestFor(provider: ModelProvider, model: string, messages?: ModelMessage[]): ModelRequest {
  return {
    model: { provider, id: model, baseUrl: baseUrlFor(provider) },
    system: 'You are a test agent.',
    messages: messages ?? [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
    tools: [bashTool],
    maxOutputTokens: 1024,
  };
}

async function call(
  provider: ModelProvider,
  model: string,
  options: Partial<ModelCallOptions> = {},
  messages?: ModelMessage[],
): Promise<ModelResponse> {
  return adapterFor(provider).call(requestFor(provider, model, messages), { apiKey, ...options });
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

async function applicationFailureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await failureOf(promise);
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe.each(providers)('%s adapter', (provider) => {
  it('answers plain text with the model id, stop reason and usage', async () => {
    const model = scripted(provider, [
      {
        text: 'Hello from the fake model, streamed in chunks.',
        usage: { inputTokens: 12, outputTokens: 7, cacheReadInputTokens: 3, cacheCreationInputTokens: 2 },
      },
    ]);
    const response = await call(provider, model);
    expect(response).toEqual({
      model,
      content: [{ type: 'text', text: 'Hello from the fake model, streamed in chunks.' }],
      stopReason: 'end_turn',
      usage: {
        inputTokens: 12,
        outputTokens: 7,
        cacheReadInputTokens: 3,
        // OpenAI reports no cache writes.
        cacheCreationInputTokens: provider === 'anthropic' ? 2 : 0,
      },
    });
  });

  it('returns two tool calls from one turn with their ids and parsed inputs', async () => {
    const model = scripted(provider, [
      {
        text: 'Let me look.',
        toolCalls: [
          { id: 'call_first', name: 'bash', input: { command: 'ls -la /workspace' } },
          { id: 'call_second', name: 'read', input: { path: '/workspace/notes.md', limit: 10, flags: ['a', 'b'] } },
        ],
        chunkSize: 5,
      },
    ]);
    const response = await call(provider, model);
    expect(response.stopReason).toBe('tool_use');
    expect(response.content).toEqual([
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'call_first', name: 'bash', input: { command: 'ls -la /workspace' } },
      {
        type: 'tool_use',
        id: 'call_second',
        name: 'read',
        input: { path: '/workspace/notes.md', limit: 10, flags: ['a', 'b'] },
      },
    ]);
  });

  it('reports max_tokens when the answer was cut off', async () => {
    const model = scripted(provider, [{ text: 'This answer is cut', stopReason: 'max_tokens' }]);
    expect((await call(provider, model)).stopReason).toBe('max_tokens');
  });

  it('streams deltas in order that add up to the final text, thinking included', async () => {
    const text = 'The quick brown fox jumps over the lazy dog, then naps.';
    const model = scripted(provider, [{ thinking: 'First, consider the fox.', text, chunkSize: 3 }]);
    const parts: ModelStreamPart[] = [];
    const response = await call(provider, model, { onPart: (part) => parts.push(part) });
    const textParts = parts.filter((part) => part.type === 'text_delta');
    const thinkingParts = parts.filter((part) => part.type === 'thinking_delta');
    expect(textParts.length).toBeGreaterThan(10);
    expect(textParts.map((part) => part.text).join('')).toBe(text);
    expect(thinkingParts.map((part) => part.text).join('')).toBe('First, consider the fox.');
    // Thinking streams first, as its own block; all text deltas belong to the next one.
    expect(parts.findIndex((part) => part.type === 'text_delta')).toBeGreaterThan(
      parts.findLastIndex((part) => part.type === 'thinking_delta'),
    );
    expect(new Set(thinkingParts.map((part) => part.index))).toEqual(new Set([0]));
    expect(new Set(textParts.map((part) => part.index))).toEqual(new Set([1]));
    expect(response.content).toEqual([{ type: 'text', text }]);
  });

  it('sends a transcript with tool calls and results in the provider shape', async () => {
    const model = scripted(provider, [{ text: 'Done.' }]);
    const messages: ModelMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'List the files, then read one.' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Running both.' },
          { type: 'tool_use', id: 'toolu_ls', name: 'bash', input: { command: 'ls' } },
          { type: 'tool_use', id: 'toolu_cat', name: 'bash', input: { command: 'cat missing.txt' } },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            toolUseId: 'toolu_ls',
            content: [{ type: 'text', text: 'a.txt\nb.txt' }],
            isError: false,
          },
          {
            type: 'tool_result',
            toolUseId: 'toolu_cat',
            content: [{ type: 'text', text: 'No such file' }],
            isError: true,
          },
          { type: 'text', text: 'Carry on.' },
        ],
      },
    ];
    await call(provider, model, { defaultHeaders: { 'x-session-id': 'sesn_test' } }, messages);
    const [recorded] = server.requests(model);
    expect(recorded?.headers['x-session-id']).toBe('sesn_test');
    expect(recorded?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(recorded)).not.toContain(apiKey);
    const body = recorded?.body;
    expect(body?.stream).toBe(true);

    if (provider === 'anthropic') {
      expect(body).toMatchObject({ system: 'You are a test agent.', max_tokens: 1024 });
      expect(body?.tools).toEqual([
        { name: 'bash', description: bashTool.description, input_schema: bashTool.inputSchema },
      ]);
      expect(body?.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'List the files, then read one.' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Running both.' },
            { type: 'tool_use', id: 'toolu_ls', name: 'bash', input: { command: 'ls' } },
            { type: 'tool_use', id: 'toolu_cat', name: 'bash', input: { command: 'cat missing.txt' } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_ls',
              is_error: false,
              content: [{ type: 'text', text: 'a.txt\nb.txt' }],
            },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_cat',
              is_error: true,
              content: [{ type: 'text', text: 'No such file' }],
            },
            { type: 'text', text: 'Carry on.' },
          ],
        },
      ]);
    } else if (provider === 'openai-chat') {
      expect(body).toMatchObject({ max_completion_tokens: 1024, stream_options: { include_usage: true } });
      expect(body?.tools).toEqual([
        {
          type: 'function',
          function: { name: 'bash', description: bashTool.description, parameters: bashTool.inputSchema },
        },
      ]);
      expect(body?.messages).toEqual([
        { role: 'system', content: 'You are a test agent.' },
        { role: 'user', content: 'List the files, then read one.' },
        {
          role: 'assistant',
          content: 'Running both.',
          tool_calls: [
            { id: 'toolu_ls', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } },
            {
              id: 'toolu_cat',
              type: 'function',
              function: { name: 'bash', arguments: '{"command":"cat missing.txt"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_ls', content: 'a.txt\nb.txt' },
        { role: 'tool', tool_call_id: 'toolu_cat', content: 'Error: No such file' },
        { role: 'user', content: 'Carry on.' },
      ]);
    } else {
      expect(body).toMatchObject({ instructions: 'You are a test agent.', max_output_tokens: 1024, store: false });
      expect(body?.tools).toEqual([
        {
          type: 'function',
          name: 'bash',
          description: bashTool.description,
          parameters: bashTool.inputSchema,
          strict: false,
        },
      ]);
      expect(body?.input).toEqual([
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'List the files, then read one.' }] },
        { type: 'message', role: 'assistant', content: 'Running both.' },
        { type: 'function_call', call_id: 'toolu_ls', name: 'bash', arguments: '{"command":"ls"}' },
        { type: 'function_call', call_id: 'toolu_cat', name: 'bash', arguments: '{"command":"cat missing.txt"}' },
        { type: 'function_call_output', call_id: 'toolu_ls', output: 'a.txt\nb.txt' },
        { type: 'function_call_output', call_id: 'toolu_cat', output: 'Error: No such file' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Carry on.' }] },
      ]);
    }
  });

  it('classifies 429 with retry-after as retryable ModelRateLimited with nextRetryDelay', async () => {
    const model = scripted(provider, [{ fault: { type: 'http', status: 429, retryAfterSeconds: 7 } }, { text: 'ok' }]);
    const failure = await applicationFailureOf(call(provider, model));
    expect(failure.type).toBe(FailureType.modelRateLimited);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(7000);
    expect(failure.message).toContain('429');
    expect(failure.details).toEqual([expect.objectContaining({ provider, model, status: 429 })]);
    // The fault turn is consumed, so the retry gets the next turn.
    expect((await call(provider, model)).content).toEqual([{ type: 'text', text: 'ok' }]);
  });

  it('takes retry-after-ms over retry-after', async () => {
    const model = scripted(provider, [
      { fault: { type: 'http', status: 429, retryAfterSeconds: 9, retryAfterMs: 1500 } },
    ]);
    expect((await applicationFailureOf(call(provider, model))).nextRetryDelay).toBe(1500);
  });

  it.each([
    [529, FailureType.modelOverloaded],
    [500, FailureType.modelOverloaded],
    [503, FailureType.modelOverloaded],
    [408, FailureType.modelOverloaded],
  ])('classifies HTTP %i as retryable %s', async (status, type) => {
    const model = scripted(provider, [{ fault: { type: 'http', status } }]);
    const failure = await applicationFailureOf(call(provider, model));
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it.each([400, 401, 403, 404, 422])('classifies HTTP %i as non-retryable ModelRequestRejected', async (status) => {
    const model = scripted(provider, [
      { fault: { type: 'http', status, message: `Incorrect API key provided: ${apiKey}`, retryAfterSeconds: 3 } },
    ]);
    const failure = await applicationFailureOf(call(provider, model));
    expect(failure.type).toBe(FailureType.modelRequestRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.nextRetryDelay).toBeUndefined();
    expect(failure.message).toContain(String(status));
    expect(failure.message).toContain('Incorrect API key provided');
    expect(failure.message).not.toContain(apiKey);
    expect(JSON.stringify(failure.details)).not.toContain(apiKey);
  });

  it.each([
    [529, FailureType.modelOverloaded, false],
    [429, FailureType.modelRateLimited, false],
    [400, FailureType.modelRequestRejected, true],
  ])('classifies an error event mid-stream like HTTP %i (%s)', async (status, type, nonRetryable) => {
    const model = scripted(provider, [{ text: 'Partial.', fault: { type: 'stream_error', status, message: 'busy' } }]);
    const failure = await applicationFailureOf(call(provider, model));
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(nonRetryable);
    expect(failure.message).toContain('busy');
  });

  it('classifies a connection reset mid-stream as ModelTransport', async () => {
    const model = scripted(provider, [{ text: 'This stream will be cut off.', fault: { type: 'reset_mid_stream' } }]);
    const failure = await applicationFailureOf(call(provider, model));
    expect(failure.type).toBe(FailureType.modelTransport);
    expect(failure.nonRetryable).toBe(false);
  });

  it('classifies a stream that ends before its closing events as ModelTransport', async () => {
    const model = scripted(provider, [{ text: 'This stream just stops.', fault: { type: 'end_mid_stream' } }]);
    const failure = await applicationFailureOf(call(provider, model));
    expect(failure.type).toBe(FailureType.modelTransport);
    expect(failure.message).toMatch(/ended (before|without)/);
  });

  it('classifies a malformed stream chunk as ModelTransport', async () => {
    // The Anthropic SDK logs the unparseable chunk to stderr before throwing; that line in the output is expected.
    const model = scripted(provider, [{ text: 'This stream goes bad.', fault: { type: 'malformed_chunk' } }]);
    const failure = await applicationFailureOf(call(provider, model));
    expect(failure.type).toBe(FailureType.modelTransport);
    expect(failure.message).toMatch(/malformed|JSON/i);
  });

  it('classifies a refused connection as ModelTransport', async () => {
    const closed = await startFakeModelServer();
    await closed.close();
    const request = {
      ...requestFor(provider, 'unreachable'),
      model: { provider, id: 'unreachable', baseUrl: `${closed.url}/v1` },
    };
    const failure = await applicationFailureOf(adapterFor(provider).call(request, { apiKey }));
    expect(failure.type).toBe(FailureType.modelTransport);
  });

  it('fails loudly and for good when the script runs out', async () => {
    const model = scripted(provider, []);
    const failure = await applicationFailureOf(call(provider, model));
    expect(failure.type).toBe(FailureType.modelRequestRejected);
    expect(failure.message).toContain(`fake model: script for ${model} exhausted`);
  });

  it('ends promptly as a cancellation when aborted mid-stream', async () => {
    const holdKey = `hold-${randomUUID()}`;
    const model = scripted(provider, [{ text: 'First chunk, then a long wait.', holdAfterFirstChunk: holdKey }]);
    const controller = new AbortController();
    const parts: ModelStreamPart[] = [];
    const error = await failureOf(
      call(provider, model, {
        signal: controller.signal,
        onPart: (part) => {
          parts.push(part);
          controller.abort();
        },
      }),
    );
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(parts).toHaveLength(1);
    // The server saw the client go away, which ended its hold without a release.
    await vi.waitFor(() => expect(server.held()).not.toContain(holdKey));
  });

  it("rethrows the abort reason when it is a Temporal failure (the activity's cancellation)", async () => {
    const holdKey = `hold-${randomUUID()}`;
    const model = scripted(provider, [{ text: 'Held.', holdAfterFirstChunk: holdKey }]);
    const controller = new AbortController();
    const reason = new CancelledFailure('CANCELLED');
    const error = await failureOf(
      call(provider, model, { signal: controller.signal, onPart: () => controller.abort(reason) }),
    );
    expect(error).toBe(reason);
  });

  it('aborts before the first token arrives', async () => {
    const model = scripted(provider, [{ text: 'Slow to start.', firstTokenDelayMs: 60_000 }]);
    const controller = new AbortController();
    const pending = call(provider, model, { signal: controller.signal });
    await vi.waitFor(() => expect(server.requests(model)).toHaveLength(1));
    controller.abort();
    expect(await failureOf(pending)).toBeInstanceOf(CancelledFailure);
  });

  it('does not call the provider when the signal has already aborted', async () => {
    const model = scripted(provider, [{ text: 'never' }]);
    const controller = new AbortController();
    controller.abort();
    expect(await failureOf(call(provider, model, { signal: controller.signal }))).toBeInstanceOf(CancelledFailure);
    expect(server.requests(model)).toHaveLength(0);
  });
});

describe('adapterFor', () => {
  it('rejects an unknown provider as a non-retryable configuration failure', () => {
    const attempt = () => adapterFor('gemini' as ModelProvider);
    expect(attempt).toThrow(ApplicationFailure);
    expect(attempt).toThrow(expect.objectContaining({ type: FailureType.misconfigured, nonRetryable: true }));
  });
});
