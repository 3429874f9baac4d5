// The fake model server itself: its demo behaviour, its non-streaming answers through the official SDKs, its HTTP
// control API, and its entry point as a separate process.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterFor } from '../../activities/model/adapter.ts';
import type { ModelMessage, ModelProvider } from '../../domain/model.ts';
import { freePort } from '../../scripts/services/process.ts';
import type { FakeTurn, RecordedRequest } from '../fake-model/script.ts';
import { startFakeModelServer, type FakeModelServer } from '../fake-model/server.ts';

const apiKey = 'fake-key-never-recorded';
let server: FakeModelServer;

beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => {
  await server.close();
});

const providers: ModelProvider[] = ['anthropic', 'openai-chat', 'openai-responses'];
const baseUrlFor = (provider: ModelProvider): string => (provider === 'anthropic' ? server.url : `${server.url}/v1`);

async function callDemo(provider: ModelProvider, messages: ModelMessage[]) {
  return adapterFor(provider).call(
    {
      model: { provider, id: `demo-${randomUUID()}`, baseUrl: baseUrlFor(provider) },
      messages,
      tools: [{ name: 'bash', description: 'Run a command', inputSchema: { type: 'object' } }],
      maxOutputTokens: 256,
    },
    { apiKey },
  );
}

async function postJson(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe.each(providers)('demo behaviour over %s (no script registered)', (provider) => {
  it('echoes the user text', async () => {
    const response = await callDemo(provider, [{ role: 'user', content: [{ type: 'text', text: 'hello there' }] }]);
    expect(response.content).toEqual([{ type: 'text', text: 'You said: hello there' }]);
    expect(response.stopReason).toBe('end_turn');
    expect(response.usage.outputTokens).toBeGreaterThan(0);
  });

  it('turns "run: <command>" into a bash tool call', async () => {
    const response = await callDemo(provider, [
      { role: 'user', content: [{ type: 'text', text: 'run: ls -la /tmp' }] },
    ]);
    expect(response.stopReason).toBe('tool_use');
    expect(response.content).toEqual([
      { type: 'tool_use', id: expect.any(String) as string, name: 'bash', input: { command: 'ls -la /tmp' } },
    ]);
  });

  it('reports a tool result back, cut to 200 characters', async () => {
    const output = 'x'.repeat(300);
    const response = await callDemo(provider, [
      { role: 'user', content: [{ type: 'text', text: 'run: printf x' }] },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'call_demo', name: 'bash', input: { command: 'printf x' } }],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', toolUseId: 'call_demo', content: [{ type: 'text', text: output }], isError: false },
        ],
      },
    ]);
    expect(response.content).toEqual([{ type: 'text', text: `The tool returned: ${'x'.repeat(200)}` }]);
  });
});

describe('non-streaming answers through the official SDKs', () => {
  const turn: FakeTurn = {
    text: 'Plain JSON answer.',
    toolCalls: [{ id: 'call_json', name: 'bash', input: { command: 'pwd' } }],
    usage: { inputTokens: 5, outputTokens: 9 },
  };

  it('Anthropic Messages', async () => {
    const model = `json-${randomUUID()}`;
    server.setScript(model, [turn]);
    const client = new Anthropic({ apiKey, baseURL: server.url, maxRetries: 0 });
    const message = await client.messages.create({
      model,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([
      { type: 'text', text: 'Plain JSON answer.', citations: null },
      { type: 'tool_use', id: 'call_json', name: 'bash', input: { command: 'pwd' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 5, output_tokens: 9 });
  });

  it('OpenAI Chat Completions', async () => {
    const model = `json-${randomUUID()}`;
    server.setScript(model, [turn]);
    const client = new OpenAI({ apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    const choice = completion.choices[0];
    expect(choice?.message.content).toBe('Plain JSON answer.');
    expect(choice?.message.tool_calls).toEqual([
      { id: 'call_json', type: 'function', function: { name: 'bash', arguments: '{"command":"pwd"}' } },
    ]);
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(completion.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 9 });
  });

  it('OpenAI Responses', async () => {
    const model = `json-${randomUUID()}`;
    server.setScript(model, [turn]);
    const client = new OpenAI({ apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const response = await client.responses.create({ model, input: 'hi' });
    expect(response.output_text).toBe('Plain JSON answer.');
    expect(response.output.find((item) => item.type === 'function_call')).toMatchObject({
      call_id: 'call_json',
      name: 'bash',
      arguments: '{"command":"pwd"}',
    });
    expect(response.usage).toMatchObject({ input_tokens: 5, output_tokens: 9 });
  });
});

describe('HTTP control API', () => {
  it('answers health', async () => {
    const response = await fetch(`${server.url}/_fake/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('registers a script over HTTP and records requests without credentials', async () => {
    const model = `http-${randomUUID()}`;
    const registered = await postJson('/_fake/scripts', { model, turns: [{ text: 'scripted over HTTP' }] });
    expect(await registered.json()).toEqual({ model, turns: 1 });

    const client = new OpenAI({ apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe('scripted over HTTP');

    const listed = await fetch(`${server.url}/_fake/requests?model=${encodeURIComponent(model)}`);
    const { requests } = (await listed.json()) as { requests: RecordedRequest[] };
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ protocol: 'openai-chat', path: '/v1/chat/completions', body: { model } });
    expect(requests[0]?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(requests)).not.toContain(apiKey);
  });

  it('releases a held stream over HTTP', async () => {
    const model = `hold-${randomUUID()}`;
    const key = `key-${randomUUID()}`;
    server.setScript(model, [{ text: 'first, then the rest after release', chunkSize: 6, holdAfterFirstChunk: key }]);
    const received: string[] = [];
    let release: Promise<Response> | undefined;
    const response = await adapterFor('anthropic').call(
      {
        model: { provider: 'anthropic', id: model, baseUrl: server.url },
        messages: [],
        tools: [],
        maxOutputTokens: 64,
      },
      {
        apiKey,
        onPart: (part) => {
          received.push(part.text);
          // Released from the first delta: the stream is held (or about to be; an early release is remembered).
          release ??= postJson(`/_fake/release/${key}`, {});
        },
      },
    );
    expect(response.content).toEqual([{ type: 'text', text: 'first, then the rest after release' }]);
    expect(received.length).toBeGreaterThan(1);
    const released = (await (await release!).json()) as { key: string; released: boolean };
    expect(released.key).toBe(key);
    expect(server.held()).not.toContain(key);
  });

  it('remembers a release that comes before the hold', async () => {
    const key = `early-${randomUUID()}`;
    expect(await (await postJson(`/_fake/release/${key}`, {})).json()).toEqual({ key, released: false });
    const model = `early-${randomUUID()}`;
    server.setScript(model, [{ text: 'not held for long', holdAfterFirstChunk: key }]);
    const response = await adapterFor('openai-responses').call(
      {
        model: { provider: 'openai-responses', id: model, baseUrl: `${server.url}/v1` },
        messages: [],
        tools: [],
        maxOutputTokens: 64,
      },
      { apiKey },
    );
    expect(response.content).toEqual([{ type: 'text', text: 'not held for long' }]);
  });

  it('rejects a bad script registration and unknown routes', async () => {
    expect((await postJson('/_fake/scripts', { turns: [] })).status).toBe(400);
    expect((await fetch(`${server.url}/_fake/nothing`)).status).toBe(404);
    expect((await postJson('/v1/embeddings', { model: 'x' })).status).toBe(404);
  });
});

describe('entry point', () => {
  it('serves on --port, prints where, and exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fake-model/main.ts', '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.setEncoding('utf8');
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          output += chunk;
          if (output.includes('listening on')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`exited early (${code}): ${output}`)));
      });
      expect(output).toContain(`fake model server listening on http://127.0.0.1:${port}`);
      expect(await (await fetch(`http://127.0.0.1:${port}/_fake/health`)).json()).toEqual({ ok: true });
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
