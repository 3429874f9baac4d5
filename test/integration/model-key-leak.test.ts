// The operator's model key never reaches a tenant's endpoint. The model worker holds an operator Anthropic key; a
// tenant agent points `model.base_url` at a listener of the test's (loopback, allow-listed for this test). Without a
// key of its own the call is refused and the listener sees nothing; with an ANTHROPIC_API_KEY credential in the
// session's vault the listener sees that key — never the operator's. Without the allow-list a loopback base_url is a
// 400 at the API.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';
import { eventually, startApiHarness, startApiOn, type ApiHarness } from '../support/api-harness.ts';

const operatorKey = `sk-ant-operator-${randomUUID()}`;
let harness: ApiHarness;
let listener: { url: string; seen: Array<{ headers: IncomingHttpHeaders; body: string }>; server: Server };

/** A tenant endpoint: records every request, then forwards it to the fake model server so the turn can complete. */
async function startRecordingListener(upstream: string): Promise<typeof listener> {
  const seen: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ headers: request.headers, body });
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'host',
        ),
      );
      const answer = await fetch(`${upstream}${request.url}`, {
        method: request.method,
        headers,
        body: body === '' ? undefined : body,
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

beforeAll(async () => {
  harness = await startApiHarness('model-key-leak', {
    modelEndpoints: (fakeModelUrl) => ({ anthropic: { apiKey: operatorKey, baseUrl: fakeModelUrl }, openai: {} }),
    privateNetworkAllowlist: ['127.0.0.0/8'],
    config: { AGENTS_PRIVATE_NETWORK_ALLOWLIST: '127.0.0.0/8' },
  });
  listener = await startRecordingListener(harness.platform.fakeModel.url);
});
afterAll(async () => {
  listener?.server.close();
  await harness?.stop();
});

const eventTypes = async (sessionId: string): Promise<string[]> =>
  (await readEvents(harness.platform.pool, sessionId)).map(({ event }) => event.type);

async function runTurn(client: Anthropic, agentId: string, vaultIds: string[]): Promise<string[]> {
  const environment = await client.beta.environments.create({ name: `leak-${randomUUID()}` });
  const session = await client.beta.sessions.create({
    agent: agentId,
    environment_id: environment.id,
    vault_ids: vaultIds,
  });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
  });
  return eventually(
    async () => {
      const types = await eventTypes(session.id);
      return types.includes('session.status_idle') ? types : undefined;
    },
    30_000,
    'the end of the turn',
  );
}

it('never sends the operator key to a tenant base_url', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `${harness.platform.prefix}-leak`;
  harness.platform.fakeModel.setScript(model, [{ text: 'from the tenant endpoint' }, { text: 'from the operator' }]);
  const agent = await client.beta.agents.create({
    name: 'tenant endpoint',
    model: { id: model, base_url: listener.url } as unknown as string,
  });

  // No key of the tenant's: refused before any connection.
  const refused = await runTurn(client, agent.id, []);
  expect(JSON.stringify(listener.seen)).not.toContain(operatorKey);
  expect(refused).toContain('session.error');
  expect(refused).not.toContain('agent.message');
  expect(listener.seen).toHaveLength(0);

  // The tenant's own key, from its vault: the listener gets that one.
  const tenantKey = `sk-ant-tenant-${randomUUID()}`;
  const vault = await client.beta.vaults.create({ display_name: 'model keys' });
  await client.beta.vaults.credentials.create(vault.id, {
    auth: {
      type: 'environment_variable',
      secret_name: 'ANTHROPIC_API_KEY',
      secret_value: tenantKey,
      networking: { type: 'limited', allowed_hosts: ['127.0.0.1'] },
    },
  } as unknown as Parameters<typeof client.beta.vaults.credentials.create>[1]);
  const answered = await runTurn(client, agent.id, [vault.id]);
  expect(answered).toContain('agent.message');
  expect(listener.seen.length).toBeGreaterThan(0);
  for (const request of listener.seen) {
    expect(JSON.stringify(request)).not.toContain(operatorKey);
    // The Anthropic SDK sends its key as x-api-key or as a bearer token, depending on version.
    expect(request.headers['x-api-key'] ?? request.headers.authorization).toContain(tenantKey);
  }

  // The operator's own endpoint (no base_url) still gets the operator key and answers.
  const operatorAgent = await client.beta.agents.create({ name: 'operator endpoint', model });
  expect(await runTurn(client, operatorAgent.id, [])).toContain('agent.message');
  for (const request of listener.seen) expect(JSON.stringify(request)).not.toContain(operatorKey);
});

it('refuses loopback or metadata model and MCP URLs at the API unless allow-listed', async () => {
  const strict = await startApiOn(harness.platform, 'model-key-leak-strict');
  try {
    const client = new Anthropic({ apiKey: strict.tenant.apiKey, baseURL: strict.baseURL, maxRetries: 0 });
    for (const base_url of [
      listener.url,
      'http://169.254.169.254/latest',
      'http://[::ffff:127.0.0.1]:1/',
      'http://10.0.0.1/',
    ]) {
      await expect(
        client.beta.agents.create({ name: 'sneaky', model: { id: 'm', base_url } as unknown as string }),
      ).rejects.toMatchObject({ status: 400 });
    }
    // MCP credentials: their server and token endpoint are tenant URLs too.
    const vault = await client.beta.vaults.create({ display_name: 'mcp' });
    await expect(
      client.beta.vaults.credentials.create(vault.id, {
        auth: { type: 'static_bearer', mcp_server_url: 'http://169.254.169.254/mcp', token: 'x' },
      }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      client.beta.vaults.credentials.create(vault.id, {
        auth: {
          type: 'mcp_oauth',
          mcp_server_url: 'https://mcp.example.com/mcp',
          access_token: 'x',
          refresh: {
            client_id: 'c',
            refresh_token: 'r',
            token_endpoint: 'http://127.0.0.1:9/token',
            token_endpoint_auth: { type: 'none' },
          },
        },
      }),
    ).rejects.toMatchObject({ status: 400 });
  } finally {
    await strict.stop();
  }
});
