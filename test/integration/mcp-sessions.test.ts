// MCP through the official SDK: an agent with two MCP servers of the test's (one behind a static bearer token, one
// behind OAuth whose token expires mid-session), vault credentials for both, and a session that lists the tools,
// calls them (an always_ask call approved by the client, an auto call allowed by the tool's read-only annotation),
// refreshes the OAuth token through the token endpoint, and survives the bearer server dying mid-call. No secret
// reaches history (raw or decoded), the events, the API's logs or the trace.
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectMcp, listAllTools } from '../../activities/mcp/client.ts';
import { refreshAccessToken } from '../../activities/mcp/oauth-refresh.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { UrlGuard } from '../../net/url-guard.ts';
import { eventually, startApiHarness, startApiOn, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';
import { sessionHistoryText } from '../support/history-text.ts';
import {
  startLegacySseMcpServer,
  startMcpServer,
  startTokenEndpoint,
  type ClientAuthentication,
  type TestMcpServer,
  type TestTokenEndpoint,
} from '../support/mcp-servers.ts';

let harness: ApiHarness;
let tickets: TestMcpServer;
let crm: TestMcpServer;
let oauth: TestTokenEndpoint;
const bearerToken = `bearer-${randomUUID()}`;

beforeAll(async () => {
  harness = await startApiHarness('mcp-sessions', {
    workers: ['session', 'model', 'mcp'],
    privateNetworkAllowlist: ['127.0.0.0/8'],
    config: { AGENTS_PRIVATE_NETWORK_ALLOWLIST: '127.0.0.0/8' },
    sessionSettings: { mcpToolTimeoutMs: 20_000 },
  });
  oauth = await startTokenEndpoint('client_secret_basic');
  tickets = await startMcpServer('tickets', (token) => token === bearerToken);
  crm = await startMcpServer('crm', (token) => token === oauth.accessToken);
});
afterAll(async () => {
  await tickets?.kill().catch(() => undefined);
  await crm?.kill();
  await oauth?.close();
  await harness?.stop();
});

type Event = { id: string; type: string; [key: string]: unknown };
const eventsOf = async (client: Anthropic, sessionId: string): Promise<Event[]> => {
  const events: Event[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId, { limit: 100 })) {
    events.push(event as unknown as Event);
  }
  return events;
};
const waitFor = (client: Anthropic, sessionId: string, what: string, found: (events: Event[]) => boolean) =>
  eventually(
    async () => {
      const events = await eventsOf(client, sessionId);
      return found(events) ? events : undefined;
    },
    60_000,
    what,
  );
const idleCount = (events: Event[]) => events.filter((event) => event.type === 'session.status_idle').length;

it('lists, calls, approves and refreshes MCP tools in a session; a dead server is a tool error', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `${harness.platform.prefix}-mcp`;
  const agent = await client.beta.agents.create({
    name: 'mcp agent',
    model,
    mcp_servers: [
      { type: 'url', name: 'tickets', url: tickets.url },
      { type: 'url', name: 'crm', url: crm.url },
    ],
    tools: [
      { type: 'agent_toolset_20260401', default_config: { enabled: false } },
      {
        type: 'mcp_toolset',
        mcp_server_name: 'tickets',
        default_config: { permission_policy: { type: 'always_allow' } },
        configs: [{ name: 'close_ticket', permission_policy: { type: 'always_ask' } }],
      },
      {
        type: 'mcp_toolset',
        mcp_server_name: 'crm',
        default_config: { permission_policy: { type: 'auto' } },
        configs: [{ name: 'hang', enabled: false }],
      },
    ] as AgentCreateParams['tools'],
  });
  expect(agent.tools).toContainEqual(
    expect.objectContaining({
      type: 'mcp_toolset',
      mcp_server_name: 'tickets',
      default_config: { enabled: true, permission_policy: { type: 'always_allow' } },
    }),
  );

  const vault = await client.beta.vaults.create({ display_name: 'mcp credentials' });
  await client.beta.vaults.credentials.create(vault.id, {
    auth: { type: 'static_bearer', mcp_server_url: tickets.url, token: bearerToken },
  });
  const oauthCredential = await client.beta.vaults.credentials.create(vault.id, {
    auth: {
      type: 'mcp_oauth',
      mcp_server_url: crm.url,
      access_token: oauth.accessToken,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      refresh: {
        client_id: oauth.clientId,
        refresh_token: oauth.refreshToken,
        token_endpoint: oauth.url,
        token_endpoint_auth: { type: 'client_secret_basic', client_secret: oauth.clientSecret },
      },
    },
  });
  const validation = await client.beta.vaults.credentials.mcpOAuthValidate(oauthCredential.id, { vault_id: vault.id });
  expect(validation).toMatchObject({ type: 'vault_credential_validation', status: 'valid', has_refresh_token: true });

  harness.platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'lookup_ticket', input: { id: 'T-1' } }] },
    { toolCalls: [{ name: 'close_ticket', input: { id: 'T-1' } }] },
    // Both servers offer lookup_ticket: the second one's is offered to the model as crm__lookup_ticket.
    { toolCalls: [{ name: 'crm__lookup_ticket', input: { id: 'C-9' } }] },
    { toolCalls: [{ name: 'hang', input: {} }] },
    { text: 'Ticket T-1 closed; the tickets server went away.' },
  ]);
  const environment = await client.beta.environments.create({ name: `mcp-${harness.platform.prefix}` });
  const session = await client.beta.sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    vault_ids: [vault.id],
  });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Close T-1.' }] }],
  });

  // The model is offered the MCP tools (listed once, at the turn's start): hang from tickets only (disabled on crm).
  const offered = () =>
    ((harness.platform.fakeModel.requests(model)[0]?.body.tools ?? []) as Array<{ name: string }>).map((t) => t.name);
  await eventually(async () => (offered().length > 0 ? true : undefined), 30_000, 'the first model request');
  expect(offered().sort()).toEqual([
    'close_ticket',
    'crm__close_ticket',
    'crm__lookup_ticket',
    'hang',
    'lookup_ticket',
  ]);

  // close_ticket asks; the client approves.
  const asking = await waitFor(client, session.id, 'the approval request', (events) => idleCount(events) >= 1);
  const ask = asking.find((event) => event.type === 'agent.mcp_tool_use' && event.name === 'close_ticket');
  expect(ask).toMatchObject({ mcp_server_name: 'tickets', evaluated_permission: 'ask' });
  expect(asking.find((event) => event.type === 'agent.mcp_tool_result')).toMatchObject({
    content: [{ type: 'text', text: 'tickets: ticket T-1 is open' }],
    is_error: false,
  });
  oauth.expire(); // the crm token is now rejected: the next crm call must refresh it
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.tool_confirmation', tool_use_id: ask!.id, result: 'allow' }],
  });

  // hang is called; the tickets server dies mid-call.
  await eventually(async () => (tickets.hanging.length > 0 ? true : undefined), 60_000, 'the hanging call');
  await tickets.kill();
  const events = await waitFor(client, session.id, 'the end of the turn', (all) =>
    all.some((event) => event.type === 'agent.message'),
  );

  const results = events.filter((event) => event.type === 'agent.mcp_tool_result');
  const uses = events.filter((event) => event.type === 'agent.mcp_tool_use');
  expect(uses.map((event) => event.name)).toEqual(['lookup_ticket', 'close_ticket', 'lookup_ticket', 'hang']);
  expect(uses[2]).toMatchObject({
    mcp_server_name: 'crm',
    tool_name: 'crm__lookup_ticket',
    evaluated_permission: 'allow',
    evaluation: { type: 'auto', evaluated_permission: { type: 'allow' } },
  });
  expect(
    results.map((event) => event.is_error),
    JSON.stringify(events),
  ).toEqual([false, false, false, true]);
  expect(JSON.stringify(results[3])).toMatch(/failed/);
  expect(tickets.calls.map((call) => call.name)).toEqual(['lookup_ticket', 'close_ticket', 'hang']);
  expect(crm.calls).toEqual([{ name: 'lookup_ticket', args: { id: 'C-9' } }]);
  // The refresh happened with the client's Basic authentication, and the new token reached the server.
  expect(oauth.refreshes).toEqual([{ authentication: 'client_secret_basic', granted: true }]);
  expect(crm.authorizations.at(-1)).toBe(`Bearer ${oauth.accessToken}`);

  // Secrets: nowhere but the vault (sealed) and the servers.
  const secrets = [bearerToken, oauth.clientSecret, ...oauth.issued];
  const history = await sessionHistoryText(harness.platform.client, harness.platform.dataConverter, session.id);
  const trace = await (await harness.request(`/v1/sessions/${session.id}/trace`)).text();
  expect(trace.match(/"tool_kind":"mcp_tool"/g)).toHaveLength(4);
  expect(trace).toContain('"mcp_server_name":"crm"');
  const logs = harness.logLines.join('\n');
  const places = { events: JSON.stringify(events), logs, trace, history: history.raw, decoded: history.decoded };
  for (const [place, text] of Object.entries(places)) {
    expect(text.length, place).toBeGreaterThan(0);
    for (const secret of secrets) expect(text.includes(secret), `${place} holds a secret`).toBe(false);
  }
  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'mcp-tools-refresh-dead-server');
});

it('times a slow call out and reports a failed refresh, and the session goes on', async () => {
  // Another API on the same workers, whose sessions give an MCP call 1.5 s.
  const api = await startApiOn(harness.platform, 'mcp-slow', {
    sessionSettings: { mcpToolTimeoutMs: 1_500 },
    config: { AGENTS_PRIVATE_NETWORK_ALLOWLIST: '127.0.0.0/8' },
  });
  const endpoint = await startTokenEndpoint('client_secret_post');
  const slow = await startMcpServer('slow', (token) => token === endpoint.accessToken);
  try {
    const client = new Anthropic({ apiKey: api.tenant.apiKey, baseURL: api.baseURL, maxRetries: 0 });
    const model = `${harness.platform.prefix}-mcp-slow`;
    const agent = await client.beta.agents.create({
      name: 'slow mcp',
      model,
      mcp_servers: [{ type: 'url', name: 'slow', url: slow.url }],
      tools: [
        { type: 'agent_toolset_20260401', default_config: { enabled: false } },
        {
          type: 'mcp_toolset',
          mcp_server_name: 'slow',
          default_config: { permission_policy: { type: 'always_allow' } },
        },
      ] as AgentCreateParams['tools'],
    });
    const vault = await client.beta.vaults.create({ display_name: 'slow' });
    const spentRefreshToken = `spent-${randomUUID()}`;
    await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: 'mcp_oauth',
        mcp_server_url: slow.url,
        access_token: endpoint.accessToken,
        refresh: {
          client_id: endpoint.clientId,
          refresh_token: spentRefreshToken, // the token endpoint refuses it
          token_endpoint: endpoint.url,
          token_endpoint_auth: { type: 'client_secret_post', client_secret: endpoint.clientSecret },
        },
      },
    });
    harness.platform.fakeModel.setScript(model, [
      { toolCalls: [{ name: 'hang', input: {} }] },
      { toolCalls: [{ name: 'lookup_ticket', input: { id: 'T-2' } }] },
      { text: 'Both calls failed.' },
    ]);
    const environment = await client.beta.environments.create({ name: `mcp-slow-${harness.platform.prefix}` });
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      vault_ids: [vault.id],
    });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Try.' }] }],
    });
    await eventually(async () => (slow.hanging.length > 0 ? true : undefined), 30_000, 'the hanging call');
    endpoint.expire(); // the next call is refused, and the refresh fails
    const events = await waitFor(client, session.id, 'the end of the turn', (all) =>
      all.some((event) => event.type === 'agent.message'),
    );
    const results = events.filter((event) => event.type === 'agent.mcp_tool_result');
    expect(results.map((event) => event.is_error)).toEqual([true, true]);
    expect(JSON.stringify(results[0])).toMatch(/timed out/i);
    const failure = events.find((event) => event.type === 'session.error');
    expect(failure).toMatchObject({
      error: { type: 'mcp_authentication_failed_error', mcp_server_name: 'slow' },
    });
    expect(JSON.stringify(failure)).toContain('invalid_grant');
    expect(endpoint.refreshes).toEqual([{ authentication: 'client_secret_post', granted: false }]);
    for (const secret of [spentRefreshToken, endpoint.clientSecret, ...endpoint.issued]) {
      expect(JSON.stringify(events)).not.toContain(secret);
      expect(api.logLines.join('\n')).not.toContain(secret);
    }
  } finally {
    await slow.kill();
    await endpoint.close();
    await api.stop();
  }
});

it('falls back to the HTTP+SSE transport when the server does not speak streamable HTTP', async () => {
  const token = `legacy-${randomUUID()}`;
  const legacy = await startLegacySseMcpServer('legacy', (given) => given === token);
  const guard = new UrlGuard(['127.0.0.0/8']);
  const connection = await connectMcp(legacy.url, { token, fetch: guard.fetch, timeoutMs: 10_000 });
  try {
    expect((await listAllTools(connection.client, 10_000)).map((tool) => tool.name)).toEqual(['lookup_ticket']);
    expect(connection.notes.lastStatus).toBe(202); // the SSE transport's message POST
    expect(legacy.authorizations.every((header) => header === `Bearer ${token}`)).toBe(true);
  } finally {
    await connection.close();
    await guard.close();
    await legacy.kill();
  }
});

it.each(['none', 'client_secret_basic', 'client_secret_post'] as ClientAuthentication[])(
  'refreshes through a token endpoint with %s client authentication',
  async (authentication) => {
    const endpoint = await startTokenEndpoint(authentication);
    const guard = new UrlGuard(['127.0.0.0/8']);
    try {
      const base = {
        tokenEndpoint: endpoint.url,
        clientId: endpoint.clientId,
        authMethod: authentication,
        clientSecret: authentication === 'none' ? undefined : endpoint.clientSecret,
      };
      const outcome = await refreshAccessToken({ ...base, refreshToken: endpoint.refreshToken }, guard.fetch);
      expect(outcome).toMatchObject({ status: 'succeeded', accessToken: endpoint.accessToken });
      // A spent refresh token is refused; what comes back names the error, never a secret.
      const refused = await refreshAccessToken({ ...base, refreshToken: 'spent' }, guard.fetch);
      expect(refused).toMatchObject({ status: 'failed', response: { status_code: 400 } });
      expect(JSON.stringify(refused)).toContain('invalid_grant');
      expect(JSON.stringify(refused)).not.toContain(endpoint.clientSecret);
    } finally {
      await guard.close();
      await endpoint.close();
    }
  },
);
