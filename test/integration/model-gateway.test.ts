// The model gateway through the official Anthropic SDK: a session token (not a provider key) buys non-streaming and
// streaming messages from the fake model server; the upstream sees the operator's provider key and never the token;
// every answer's usage lands in the ledger under the session; a wrong model, an unknown or revoked token, a spent
// session budget and a session over its request rate are refused in the Anthropic error vocabulary.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startModelGateway, type ModelGateway } from '../../activities/model/gateway/server.ts';
import { mintGatewayToken, revokeSessionGatewayTokens } from '../../db/repositories/model-gateway-tokens.ts';
import { UrlGuard } from '../../net/url-guard.ts';
import { eventually } from '../support/api-harness.ts';
import { startFakeModelServer, type FakeModelServer } from '../fake-model/server.ts';
import { uniquePrefix } from '../support/platform.ts';

const providerKey = `sk-ant-provider-${randomUUID()}`;
let pool: pg.Pool;
let fake: FakeModelServer;
let upstream: { url: string; seen: IncomingHttpHeaders[]; server: Server };
let gateway: ModelGateway;
let prefix: string;

/** The provider's side of the wire: records each request's headers, then lets the fake model answer. */
async function startUpstream(target: string): Promise<typeof upstream> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      seen.push(request.headers);
      const answer = await fetch(`${target}${request.url}`, {
        method: request.method,
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      });
      const passed = [...answer.headers].filter(([name]) => !['content-length', 'content-encoding'].includes(name));
      response.writeHead(answer.status, Object.fromEntries(passed));
      for await (const chunk of answer.body ?? []) response.write(chunk);
      response.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const gatewayOn = (url: string, requestsPerMinute = 0) =>
  startModelGateway({
    pool,
    endpoints: {
      anthropic: { apiKey: providerKey, baseUrl: url },
      openai: { apiKey: providerKey, baseUrl: `${url}/v1` },
    },
    guard: new UrlGuard(['127.0.0.0/8']),
    requestsPerMinute,
  });

beforeAll(async () => {
  prefix = uniquePrefix('gateway');
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  fake = await startFakeModelServer();
  upstream = await startUpstream(fake.url);
  gateway = await gatewayOn(upstream.url);
});
afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => upstream?.server.close(resolve));
  await fake?.close();
  await pool?.end();
});

const ledger = async (sessionId: string) =>
  (
    await pool.query<{ input_tokens: string; output_tokens: string; model: string }>(
      `select input_tokens, output_tokens, model from usage_ledger where session_id = $1 order by id`,
      [sessionId],
    )
  ).rows.map((row) => ({ model: row.model, input: Number(row.input_tokens), output: Number(row.output_tokens) }));

const meteredRows = (sessionId: string, count: number) =>
  eventually(
    async () => {
      const rows = await ledger(sessionId);
      return rows.length >= count ? rows : undefined;
    },
    10_000,
    `${count} ledger rows`,
  );

it('forwards streaming and non-streaming messages with the provider key and meters them', async () => {
  const model = `${prefix}-model`;
  const sessionId = `sesn_${prefix}-a`;
  const token = await mintGatewayToken(pool, { tenantId: `tenant-${prefix}`, sessionId, model });
  fake.setScript(model, [
    { text: 'Hello through the gateway.', usage: { inputTokens: 11, outputTokens: 7 } },
    { text: 'Streamed back.', usage: { inputTokens: 13, outputTokens: 5 } },
  ]);
  const client = new Anthropic({ apiKey: token, baseURL: gateway.url, maxRetries: 0 });

  const message = await client.messages.create({
    model,
    max_tokens: 100,
    messages: [{ role: 'user', content: 'hi' }],
  });
  expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hello through the gateway.' })]);

  const stream = client.messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'again' }] });
  const deltas: string[] = [];
  stream.on('text', (text) => deltas.push(text));
  const streamed = await stream.finalMessage();
  expect(streamed.content).toEqual([expect.objectContaining({ type: 'text', text: 'Streamed back.' })]);
  expect(deltas.length).toBeGreaterThan(1);
  expect(streamed.usage).toMatchObject({ input_tokens: 13, output_tokens: 5 });

  // The provider saw its key, never the session's token; the fake model saw both requests.
  expect(upstream.seen.slice(-2).map((headers) => headers['x-api-key'])).toEqual([providerKey, providerKey]);
  expect(JSON.stringify(upstream.seen)).not.toContain(token);
  expect(fake.requests(model)).toHaveLength(2);
  // A response is metered once its stream has ended upstream, which may be just after the client read its end.
  expect(await meteredRows(sessionId, 2)).toEqual([
    { model, input: 11, output: 7 },
    { model, input: 13, output: 5 },
  ]);

  // Claude Code's reachability probe is answered without a token.
  expect((await fetch(`${gateway.url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
});

it('forwards OpenAI Responses requests (what Codex speaks) with the provider key and meters them', async () => {
  const model = `${prefix}-responses`;
  const sessionId = `sesn_${prefix}-r`;
  const token = await mintGatewayToken(pool, { tenantId: `tenant-${prefix}`, sessionId, model });
  fake.setScript(model, [
    { text: 'Plain answer.', usage: { inputTokens: 17, outputTokens: 3 } },
    { text: 'Streamed answer.', usage: { inputTokens: 19, outputTokens: 4, cacheReadInputTokens: 6 } },
  ]);
  const client = new OpenAI({ apiKey: token, baseURL: `${gateway.url}/v1`, maxRetries: 0 });

  const response = await client.responses.create({ model, input: 'hi' });
  expect(response.output_text).toBe('Plain answer.');
  const stream = await client.responses.create({ model, input: 'again', stream: true });
  let streamed = '';
  for await (const event of stream) if (event.type === 'response.output_text.delta') streamed += event.delta;
  expect(streamed).toBe('Streamed answer.');

  expect(upstream.seen.slice(-2).map((headers) => headers.authorization)).toEqual([
    `Bearer ${providerKey}`,
    `Bearer ${providerKey}`,
  ]);
  expect(JSON.stringify(upstream.seen)).not.toContain(token);
  // Our input tokens are the uncached ones, as the model activities count them.
  expect(await meteredRows(sessionId, 2)).toEqual([
    { model, input: 17, output: 3 },
    { model, input: 19, output: 4 },
  ]);
  // A refusal speaks the OpenAI error shape.
  await expect(client.responses.create({ model: `${model}-other`, input: 'hi' })).rejects.toMatchObject({
    status: 403,
    error: { type: 'permission_error' },
  });
});

it('refuses another model, unknown and revoked tokens, and a spent session budget', async () => {
  const model = `${prefix}-model-b`;
  const sessionId = `sesn_${prefix}-b`;
  const token = await mintGatewayToken(pool, { tenantId: `tenant-${prefix}`, sessionId, model, tokenBudget: 20 });
  const client = new Anthropic({ apiKey: token, baseURL: gateway.url, maxRetries: 0 });
  const ask = (options: { model?: string; client?: Anthropic } = {}) =>
    (options.client ?? client).messages.create({
      model: options.model ?? model,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
  const before = upstream.seen.length;

  await expect(ask({ model: `${model}-other` })).rejects.toMatchObject({ status: 403 });
  const stranger = new Anthropic({ apiKey: 'sk-agents-gw-unknown', baseURL: gateway.url, maxRetries: 0 });
  await expect(ask({ client: stranger })).rejects.toMatchObject({ status: 401 });
  const providerKeyHolder = new Anthropic({ apiKey: providerKey, baseURL: gateway.url, maxRetries: 0 });
  await expect(ask({ client: providerKeyHolder })).rejects.toMatchObject({ status: 401 });
  expect(upstream.seen.length).toBe(before);

  // The budget: the first answer spends 25 of 20 tokens, so the next request is refused before it goes upstream.
  fake.setScript(model, [{ text: 'ok', usage: { inputTokens: 20, outputTokens: 5 } }]);
  await ask();
  await expect(ask()).rejects.toMatchObject({
    status: 403,
    error: { error: { type: 'permission_error', message: expect.stringContaining('budget reached') } },
  });
  expect(upstream.seen.length).toBe(before + 1);

  // Revocation is immediate.
  const other = await mintGatewayToken(pool, { tenantId: `tenant-${prefix}`, sessionId: `${sessionId}-2`, model });
  fake.setScript(model, [{ text: 'fine' }]);
  const otherClient = new Anthropic({ apiKey: other, baseURL: gateway.url, maxRetries: 0 });
  await ask({ client: otherClient });
  expect(await revokeSessionGatewayTokens(pool, `${sessionId}-2`)).toBe(1);
  await expect(ask({ client: otherClient })).rejects.toMatchObject({ status: 401 });
});

it('holds a session to its request rate with a retry-after', async () => {
  const limited = await gatewayOn(upstream.url, 1);
  try {
    const model = `${prefix}-model-c`;
    const token = await mintGatewayToken(pool, { tenantId: `tenant-${prefix}`, sessionId: `sesn_${prefix}-c`, model });
    fake.setScript(model, [{ text: 'one' }, { text: 'two' }]);
    const client = new Anthropic({ apiKey: token, baseURL: limited.url, maxRetries: 0 });
    const ask = () => client.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    await ask();
    const refusal = await ask().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(Anthropic.RateLimitError);
    expect(
      Number((refusal as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after')),
    ).toBeGreaterThan(0);
  } finally {
    await limited.close();
  }
});
