// Egress and `environment_variable` credentials end to end, through the official SDK: an environment with `limited`
// networking (client.beta.environments.create), credentials in vaults (client.beta.vaults.credentials.create), a
// session whose agent runs curl in its sandbox. The allowed upstream (the test's own, on loopback) receives the secret;
// the sandbox, the events, the history (raw and decoded), the logs and the trace never hold it; a credential scoped to
// a host the environment does not allow is reported as `credential_host_unreachable_error`; the trace lists every
// connection with its verdict.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import { credentialPlaceholder } from '../../domain/egress.ts';
import type { SessionTrace } from '../../domain/trace/schema.ts';
import { listEvents, waitForIdle } from '../fixtures/trace/scenario.ts';
import { startApiOn, type ApiHarness } from '../support/api-harness.ts';
import { sessionHistoryText } from '../support/history-text.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

const secret = `sk-session-${randomBytes(12).toString('hex')}`;
const otherSecret = `sk-other-${randomBytes(12).toString('hex')}`;
const received: Array<{ server: string; authorization: string | undefined; body: string }> = [];
const servers: http.Server[] = [];
let platform: TestPlatform;
let harness: ApiHarness;
let client: Anthropic;
const ports = { allowed: 0, denied: 0 };

async function upstream(name: string, host: string): Promise<number> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ server: name, authorization: request.headers.authorization, body });
      response.end(`${name}: authorization=${request.headers.authorization ?? '-'} body=${body}\n`);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  ports.allowed = await upstream('allowed', '127.0.0.4');
  ports.denied = await upstream('denied', '127.0.0.2');
  platform = await startTestPlatform({
    label: 'egress-session',
    workers: ['session', 'model', 'sandbox'],
    // The upstreams are loopback servers, which the proxy refuses unless the operator allows their range.
    privateNetworkAllowlist: ['127.0.0.0/8'],
    egress: {},
  });
  harness = await startApiOn(platform, 'egress-session');
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});

afterAll(async () => {
  await harness?.stop();
  await platform?.stop();
  for (const server of servers) server.close();
});

it('substitutes the secret at the boundary, keeps it out of everything else, and traces every connection', async () => {
  const environment = await client.beta.environments.create({
    name: `egress-${platform.prefix}`,
    config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: ['127.0.0.4'] } },
  });
  expect(environment.config).toMatchObject({ networking: { type: 'limited', allowed_hosts: ['127.0.0.4'] } });
  const vault = await client.beta.vaults.create({ display_name: 'deploy' });
  const credential = await client.beta.vaults.credentials.create(vault.id, {
    auth: {
      type: 'environment_variable',
      secret_name: 'API_TOKEN',
      secret_value: secret,
      networking: { type: 'limited', allowed_hosts: ['127.0.0.4'] },
      injection_location: { header: true, body: true },
    },
  });
  const otherVault = await client.beta.vaults.create({ display_name: 'elsewhere' });
  const unreachable = await client.beta.vaults.credentials.create(otherVault.id, {
    auth: {
      type: 'environment_variable',
      secret_name: 'OTHER_TOKEN',
      secret_value: otherSecret,
      networking: { type: 'limited', allowed_hosts: ['api.unreachable.example'] },
    },
  });

  const model = `${platform.prefix}-egress`;
  const command = [
    `curl -sS -m 10 -H "Authorization: Bearer $API_TOKEN" --data "t=$API_TOKEN" http://127.0.0.4:${ports.allowed}/`,
    'echo "env: $API_TOKEN"',
    `curl -sS -m 10 -o /dev/null -w 'denied-status=%{http_code}\\n' http://127.0.0.2:${ports.denied}/`,
    `(exec 3<>/dev/tcp/127.0.0.2/${ports.denied}) 2>/dev/null || echo raw-refused`,
  ].join('; ');
  platform.fakeModel.setScript(model, [{ toolCalls: [{ name: 'bash', input: { command } }] }, { text: 'done' }]);
  const agent = await client.beta.agents.create({
    name: 'egress agent',
    model,
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const session = await client.beta.sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    vault_ids: [vault.id, otherVault.id],
  });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'call the API' }] }],
  });
  await waitForIdle(harness, session.id, 'end_turn');

  // The upstream got the secret, in the header and the body.
  expect(received.filter((entry) => entry.server === 'allowed')).toEqual([
    { server: 'allowed', authorization: `Bearer ${secret}`, body: `t=${secret}` },
  ]);
  expect(received.filter((entry) => entry.server === 'denied')).toEqual([]);

  const events = await listEvents(harness, session.id);
  const result = events.find((event) => event.type === 'agent.tool_result') as Extract<
    SessionEvent,
    { type: 'agent.tool_result' }
  >;
  const output = (result.content ?? []).map((block) => block.text).join('');
  const placeholder = credentialPlaceholder(credential.id);
  expect(output).toContain(`allowed: authorization=Bearer ${placeholder} body=t=${placeholder}`);
  expect(output).toContain(`env: ${placeholder}`);
  expect(output).toContain('denied-status=403');
  expect(output).toContain('raw-refused');

  const errors = events.filter((event) => event.type === 'session.error');
  expect(errors).toEqual([
    expect.objectContaining({
      error: expect.objectContaining({
        type: 'credential_host_unreachable_error',
        credential_id: unreachable.id,
        vault_id: otherVault.id,
      }),
    }),
  ]);

  const traceResponse = await harness.request(`/v1/sessions/${session.id}/trace`);
  const traceText = await traceResponse.text();
  const trace = JSON.parse(traceText) as SessionTrace;
  expect(trace.egress?.connections).toEqual([
    expect.objectContaining({
      host: '127.0.0.4',
      port: ports.allowed,
      kind: 'http',
      verdict: 'allowed',
      intercepted: true,
      credential_ids: [credential.id],
    }),
    expect.objectContaining({ host: '127.0.0.2', port: ports.denied, verdict: 'denied' }),
  ]);
  expect(trace.egress?.totals).toMatchObject({ allowed: 1, denied: 1 });
  expect(trace.egress?.connections[0]?.bytes_received).toBeGreaterThan(0);

  const history = await sessionHistoryText(platform.client, platform.dataConverter, session.id);
  expect(history.decoded).toContain(vault.id);
  const everything = {
    events: JSON.stringify(events),
    trace: traceText,
    rawHistory: history.raw,
    decodedHistory: history.decoded,
    apiLogs: harness.logLines.join('\n'),
  };
  for (const [where, text] of Object.entries(everything)) {
    expect(text.includes(secret), `secret in ${where}`).toBe(false);
    expect(text.includes(otherSecret), `other secret in ${where}`).toBe(false);
  }
  await client.beta.sessions.delete(session.id);
});

it('refuses host patterns the API does not accept: URLs, ports, paths, IPv6, more than 16 credential hosts', async () => {
  for (const host of ['https://api.example.com', 'api.example.com:443', 'api.example.com/v1', '2001:db8::1', '*']) {
    await expect(
      client.beta.environments.create({
        name: `bad-${randomBytes(3).toString('hex')}`,
        config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: [host] } },
      }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  }
  // Packages come from the registries: limited networking must allow them.
  await expect(
    client.beta.environments.create({
      name: `packages-${randomBytes(3).toString('hex')}`,
      config: { type: 'cloud', networking: { type: 'limited' }, packages: { pip: ['six'] } },
    }),
  ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  const vault = await client.beta.vaults.create({ display_name: 'limits' });
  await expect(
    client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: 'environment_variable',
        secret_name: 'MANY',
        secret_value: 'x',
        networking: { type: 'limited', allowed_hosts: Array.from({ length: 17 }, (_, index) => `h${index}.test`) },
      },
    }),
  ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
});
