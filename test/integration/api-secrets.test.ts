// A credential's secret (a canary) never leaves the vault: not in any API response, not in the event log, not in
// the API's logs, not in the credential row in plaintext, and not in the Temporal history of a session using the
// vault — neither raw nor after decoding its payloads.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { sessionHistoryText } from '../support/history-text.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('api-secrets');
});
afterAll(async () => {
  await harness?.stop();
});

const bodies: string[] = [];
async function call(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const response = await harness.request(path, init);
  const text = await response.text();
  bodies.push(text);
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as Record<string, unknown>;
}
const post = (path: string, body: unknown) => call(path, { method: 'POST', body: JSON.stringify(body) });

it('keeps credential secrets out of responses, events, logs and history', async () => {
  const canaries = [`canary-bearer-${randomUUID()}`, `canary-env-${randomUUID()}`, `canary-rotated-${randomUUID()}`];
  const vault = await post('/v1/vaults', { display_name: 'secrets' });
  const bearer = await post(`/v1/vaults/${vault.id as string}/credentials`, {
    display_name: 'mcp',
    auth: { type: 'static_bearer', mcp_server_url: 'https://mcp.example.com/mcp', token: canaries[0] },
  });
  await post(`/v1/vaults/${vault.id as string}/credentials`, {
    auth: {
      type: 'environment_variable',
      secret_name: 'DEPLOY_TOKEN',
      secret_value: canaries[1],
      networking: { type: 'unrestricted' },
    },
  });
  await post(`/v1/vaults/${vault.id as string}/credentials/${bearer.id as string}`, {
    auth: { type: 'static_bearer', token: canaries[2] },
  });
  await call(`/v1/vaults/${vault.id as string}/credentials/${bearer.id as string}`);
  await call(`/v1/vaults/${vault.id as string}/credentials`);
  await call(`/v1/vaults/${vault.id as string}`);

  const model = `${harness.platform.prefix}-secrets`;
  harness.platform.fakeModel.setScript(model, [{ text: 'Nothing secret here.' }]);
  const agent = await post('/v1/agents', { name: 'secret keeper', model, tools: [] });
  const environment = await post('/v1/environments', { name: `secrets-${harness.platform.prefix}` });
  const session = await post('/v1/sessions', {
    agent: agent.id,
    environment_id: environment.id,
    vault_ids: [vault.id],
  });
  const sessionId = session.id as string;
  await post(`/v1/sessions/${sessionId}/events`, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
  });
  await eventually(
    async () => {
      const journaled = await readEvents(harness.platform.pool, sessionId);
      return journaled.some(({ event }) => event.type === 'session.status_idle') ? true : undefined;
    },
    30_000,
    'the end of the turn',
  );
  await call(`/v1/sessions/${sessionId}`);
  await call(`/v1/sessions/${sessionId}/events`);
  await call('/v1/sessions');

  const responses = bodies.join('\n');
  const events = await readEvents(harness.platform.pool, sessionId);
  const eventsText = JSON.stringify(events.map(({ event }) => ({ body: event })));
  const logs = harness.logLines.join('\n');
  expect(logs.length).toBeGreaterThan(0);
  expect(logs).not.toContain(harness.tenant.apiKey);

  const history = await sessionHistoryText(harness.platform.client, harness.platform.dataConverter, sessionId);
  expect(history.payloadCount).toBeGreaterThan(0);
  const rawHistory = history.raw;
  const decodedHistory = history.decoded;
  expect(decodedHistory).toContain(vault.id); // the input names the vault …

  const sealed = await harness.platform.pool.query<{ secret: Buffer }>(
    'select secret from vault_credentials where vault_id = $1',
    [vault.id],
  );
  for (const canary of canaries) {
    expect(responses).not.toContain(canary);
    expect(eventsText).not.toContain(canary);
    expect(logs).not.toContain(canary);
    expect(rawHistory).not.toContain(canary);
    expect(decodedHistory).not.toContain(canary); // … but never a secret
    for (const row of sealed.rows) expect(row.secret.includes(Buffer.from(canary))).toBe(false);
  }
});
