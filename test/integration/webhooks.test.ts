// Webhooks through the API and the official SDK: a receiver of the test's (a real HTTP server on loopback) verifies
// every delivery with `client.beta.webhooks.unwrap()` and the endpoint's secret (shown once); it refuses the first
// deliveries and the events still arrive, once per webhook-id, after retries (intervals shortened through config);
// a run's `started` precedes its `succeeded`; the delivery log shows attempts and errors; the URL guard refuses a
// metadata address; rotation; an endpoint that always fails is disabled and the tenant’s other endpoint hears of it;
// a session's status changes (journaled by its workflow) arrive as session.status_* events, running before idle.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appendSessionEvents, readEvents } from '../../db/repositories/session-events.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

let harness: ApiHarness;
let client: Anthropic;
let receiver: WebhookReceiver;
let failing: WebhookReceiver;

beforeAll(async () => {
  harness = await startApiHarness('webhooks', {
    workers: ['session', 'model', 'automation'],
    env: {
      AGENTS_PRIVATE_NETWORK_ALLOWLIST: '127.0.0.0/8',
      AGENTS_WEBHOOK_RETRY_INITIAL_MS: '200',
      AGENTS_WEBHOOK_RETRY_MAX_MS: '1000',
      AGENTS_WEBHOOK_MAX_ATTEMPTS: '20',
      AGENTS_WEBHOOK_ATTEMPT_TIMEOUT_MS: '2000',
      AGENTS_WEBHOOK_DISABLE_AFTER_FAILURES: '4',
      AGENTS_WEBHOOK_SWEEP_INTERVAL_MS: '1000',
    },
  });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  receiver = await startWebhookReceiver(3);
  failing = await startWebhookReceiver(Number.MAX_SAFE_INTEGER);
});
afterAll(async () => {
  await receiver?.close();
  await failing?.close();
  await harness?.stop();
});

interface Endpoint {
  id: string;
  secret?: string;
  status: string;
  disabled_reason: unknown;
}

const call = async <T>(path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: T }> => {
  const response = await harness.request(path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
};

it('delivers signed events at least once, retried, once per webhook-id, in order per subject', async () => {
  const refused = await call('/v1/webhook_endpoints', 'POST', { url: 'http://169.254.169.254/latest/meta-data' });
  expect(refused.status).toBe(400);

  const created = await call<Endpoint>('/v1/webhook_endpoints', 'POST', {
    url: receiver.url,
    event_types: ['agent.created', 'deployment.created', 'deployment_run.started', 'deployment_run.succeeded'],
  });
  expect(created.status).toBe(200);
  expect(created.body.secret).toMatch(/^whsec_/);
  receiver.secret = created.body.secret!;
  expect((await call<Endpoint>(`/v1/webhook_endpoints/${created.body.id}`)).body.secret).toBeUndefined();

  const agent = await client.beta.agents.create({ name: 'hooked', model: `${harness.platform.prefix}-model` });
  const environment = await client.beta.environments.create({ name: `env-${harness.platform.prefix}` });
  const deployment = await client.beta.deployments.create({
    agent: agent.id,
    environment_id: environment.id,
    initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
    name: 'hooked',
  });
  const run = await client.beta.deployments.run(deployment.id);

  const expected = [
    ['agent.created', agent.id],
    ['deployment.created', deployment.id],
    ['deployment_run.started', run.id],
    ['deployment_run.succeeded', run.id],
  ];
  await eventually(async () => (receiver.accepted.length >= expected.length ? true : undefined), 60_000, 'deliveries');
  const seen = receiver.accepted.map(({ event }) => [event.data.type, event.data.id]);
  expect(seen).toEqual(expect.arrayContaining(expected));
  expect(receiver.unverified).toBe(0);
  // Once per webhook-id, and the refused attempts' ids are among them (stable across retries).
  const ids = receiver.accepted.map((delivery) => delivery.webhookId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(receiver.refusedIds.length).toBe(3);
  for (const id of receiver.refusedIds) expect(ids).toContain(id);
  const order = seen.map(([type]) => type);
  expect(order.indexOf('deployment_run.started')).toBeLessThan(order.indexOf('deployment_run.succeeded'));
  for (const { event } of receiver.accepted) expect(event.type).toBe('event');

  const log = await call<{ data: Array<{ status: string; attempts: number; last_error: string | null }> }>(
    `/v1/webhook_endpoints/${created.body.id}/deliveries`,
  );
  expect(log.body.data).toHaveLength(4);
  expect(log.body.data.every((delivery) => delivery.status === 'succeeded')).toBe(true);
  expect(log.body.data.reduce((sum, delivery) => sum + delivery.attempts, 0)).toBe(4 + 3);

  // Rotation: the next deliveries verify with the new secret (the old one signs beside it during the grace period).
  const rotated = await call<Endpoint>(`/v1/webhook_endpoints/${created.body.id}/rotate_secret`, 'POST');
  expect(rotated.body.secret).toMatch(/^whsec_/);
  expect(rotated.body.secret).not.toBe(receiver.secret);
  receiver.secret = rotated.body.secret!;
  const second = await client.beta.agents.create({ name: 'after rotation', model: `${harness.platform.prefix}-model` });
  await eventually(async () => receiver.accepted.find(({ event }) => event.data.id === second.id), 30_000, 'rotated');
  expect(receiver.unverified).toBe(0);
});

it('disables an endpoint after a failure streak and tells the tenant’s other endpoints', async () => {
  const watcher = await call<Endpoint>('/v1/webhook_endpoints', 'POST', {
    url: receiver.url,
    event_types: ['webhook_endpoint.disabled'],
  });
  receiver.secret = watcher.body.secret!;
  const doomed = await call<Endpoint>('/v1/webhook_endpoints', 'POST', {
    url: failing.url,
    event_types: ['vault.created'],
  });
  failing.secret = doomed.body.secret!;
  await client.beta.vaults.create({ display_name: 'v1' });

  const disabled = await eventually(async () => {
    const current = await call<Endpoint>(`/v1/webhook_endpoints/${doomed.body.id}`);
    return current.body.status === 'disabled' ? current.body : undefined;
  }, 60_000);
  expect(disabled.disabled_reason).toEqual({ type: 'failure_streak', failed_attempts: 4 });
  const notice = await eventually(
    async () => receiver.accepted.find(({ event }) => (event.data.type as string) === 'webhook_endpoint.disabled'),
    30_000,
    'disabled notice',
  );
  expect(notice.event.data.id).toBe(doomed.body.id);
  const log = await call<{ data: Array<{ status: string; attempts: number; last_error: string }> }>(
    `/v1/webhook_endpoints/${doomed.body.id}/deliveries`,
  );
  expect(log.body.data[0]).toMatchObject({ status: 'abandoned', attempts: 4, last_error: 'HTTP 503' });

  const enabled = await call<Endpoint>(`/v1/webhook_endpoints/${doomed.body.id}/enable`, 'POST');
  expect(enabled.body).toMatchObject({ status: 'enabled', disabled_reason: null });
  expect((await call(`/v1/webhook_endpoints/${doomed.body.id}`, 'DELETE')).status).toBe(200);
  expect((await call(`/v1/webhook_endpoints/${doomed.body.id}`)).status).toBe(404);
});

it('announces a session’s status changes decided in its workflow: running then idle, once per webhook-id', async () => {
  const sessions = await startWebhookReceiver(1);
  try {
    const endpoint = await call<Endpoint>('/v1/webhook_endpoints', 'POST', {
      url: sessions.url,
      event_types: ['session.status_run_started', 'session.status_idled'],
    });
    sessions.secret = endpoint.body.secret!;
    const agent = await client.beta.agents.create({ name: 'status', model: `${harness.platform.prefix}-model` });
    const environment = await client.beta.environments.create({ name: `status-${harness.platform.prefix}` });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
    });
    await eventually(async () => (sessions.accepted.length >= 2 ? true : undefined), 60_000, 'status webhooks');
    const seen = sessions.accepted.map(({ event }) => [event.data.type, event.data.id]);
    expect(seen.slice(0, 2)).toEqual([
      ['session.status_run_started', session.id],
      ['session.status_idled', session.id],
    ]);
    expect(sessions.unverified).toBe(0);
    const ids = sessions.accepted.map((delivery) => delivery.webhookId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(sessions.refusedIds).toHaveLength(1);
    expect(ids).toContain(sessions.refusedIds[0]);
    // A retried journal write (the same events again) records no second webhook event.
    const journaled = await readEvents(harness.platform.pool, session.id);
    await appendSessionEvents(harness.platform.pool, { sessionId: session.id, events: journaled });
    const log = await call<{ data: unknown[] }>(`/v1/webhook_endpoints/${endpoint.body.id}/deliveries`);
    expect(log.body.data).toHaveLength(sessions.accepted.length);
    // The payload is the SDK's shape: ids only, nothing of the session's content.
    for (const { event } of sessions.accepted) {
      expect(Object.keys(event.data).sort()).toEqual(['id', 'organization_id', 'type', 'workspace_id']);
    }
  } finally {
    await sessions.close();
  }
});
