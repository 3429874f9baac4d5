// Tenants and keys through the API (/v1/admin/…, admin keys only), driven by the official SDK's client: a tenant with
// a full and a read-only key, keys shown once and listed by hint with their last use, a read-only key that can read but
// not send events or create anything, rotation (the old key stops at once, or after a grace period), revocation (401
// from the next request), admin and tenant keys kept apart — and the audit trail: the trace says which key sent the
// message.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { issueApiKey } from '../../db/repositories/api-keys.ts';
import type { SessionTrace } from '../../domain/trace/schema.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
let admin: Anthropic;
beforeAll(async () => {
  harness = await startApiHarness('api-keys');
  // The first admin key comes from scripts/create-admin-key.ts, which does this.
  const { key } = await issueApiKey(harness.platform.pool, { tenantId: null, name: 'ops', scope: 'admin' });
  admin = sdk(key);
});
afterAll(async () => {
  await harness?.stop();
});

const sdk = (apiKey: string) => new Anthropic({ apiKey, baseURL: harness.baseURL, maxRetries: 0 });

interface Tenant {
  id: string;
  name: string;
}
interface ApiKey {
  id: string;
  tenant_id: string | null;
  name: string;
  scope: string;
  hint: string;
  last_used_at: string | null;
  revoked_at: string | null;
  expires_at: string | null;
  rotated_to: string | null;
  key?: string;
}
interface Page<T> {
  data: T[];
  next_page: string | null;
}

const listKeys = (tenantId: string, includeRevoked = false) =>
  admin.get<Page<ApiKey>>(`/v1/admin/tenants/${tenantId}/api_keys`, {
    query: includeRevoked ? { include_archived: 'true' } : {},
  });

it('manages tenants and keys with scopes, rotation and revocation, and records who sent each event', async () => {
  const tenant = await admin.post<Tenant>('/v1/admin/tenants', { body: { name: 'acme' } });
  expect(tenant).toMatchObject({ id: expect.stringMatching(/^tnt_/), type: 'tenant', name: 'acme' });
  expect(await admin.get<Tenant>(`/v1/admin/tenants/${tenant.id}`)).toEqual(tenant);
  const fullKey = await admin.post<ApiKey>(`/v1/admin/tenants/${tenant.id}/api_keys`, {
    body: { name: 'ci', scope: 'full' },
  });
  const readKey = await admin.post<ApiKey>(`/v1/admin/tenants/${tenant.id}/api_keys`, {
    body: { name: 'dashboards', scope: 'read_only' },
  });
  expect(fullKey).toMatchObject({ tenant_id: tenant.id, scope: 'full', last_used_at: null, revoked_at: null });
  expect(fullKey.key).toMatch(/^sk-agents-/);
  expect(fullKey.hint).toBe(`sk-agents-…${fullKey.key!.slice(-4)}`);

  // Listed without the secret, newest first.
  const listed = await listKeys(tenant.id);
  expect(listed.data.map((key) => [key.id, key.scope])).toEqual([
    [readKey.id, 'read_only'],
    [fullKey.id, 'full'],
  ]);
  expect(listed.data.every((key) => key.key === undefined)).toBe(true);

  // The full key works on the tenant's resources; admin and tenant routes stay apart.
  const full = sdk(fullKey.key!);
  const model = `${harness.platform.prefix}-keys`;
  harness.platform.fakeModel.setScript(model, [{ text: 'hello' }]);
  const agent = await full.beta.agents.create({ name: 'keys', model });
  const environment = await full.beta.environments.create({ name: `keys-${harness.platform.prefix}` });
  const session = await full.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const sent = await full.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'hi' }] }],
  });
  await expect(full.get('/v1/admin/tenants')).rejects.toMatchObject({ status: 403 });
  await expect(admin.beta.agents.list()).rejects.toMatchObject({ status: 403 });

  // Read-only: reads, and nothing else.
  const reader = sdk(readKey.key!);
  expect((await reader.beta.sessions.retrieve(session.id)).id).toBe(session.id);
  expect((await reader.beta.agents.retrieve(agent.id)).id).toBe(agent.id);
  await expect(
    reader.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'no' }] }],
    }),
  ).rejects.toMatchObject({ status: 403, error: { error: { type: 'permission_error' } } });
  await expect(reader.beta.agents.create({ name: 'nope', model })).rejects.toMatchObject({ status: 403 });
  await expect(reader.beta.sessions.delete(session.id)).rejects.toMatchObject({ status: 403 });

  // The trace says which key sent the message.
  const trace = await eventually(async () => {
    const response = await harness.request(`/v1/sessions/${session.id}/trace`, { apiKey: readKey.key });
    const body = (await response.json()) as SessionTrace;
    return body.turns[0]?.ended_at ? body : undefined;
  });
  expect(trace.turns[0]).toMatchObject({
    user_message_id: sent.data?.[0]?.id,
    sent_by: { api_key_id: fullKey.id, api_key_name: 'ci' },
  });

  // Last use is recorded.
  const used = await listKeys(tenant.id);
  expect(used.data.every((key) => key.last_used_at !== null)).toBe(true);

  // Rotation without grace: the new key works, the old one fails at once, a second rotation of it is refused.
  const rotated = await admin.post<ApiKey>(`/v1/admin/api_keys/${fullKey.id}/rotate`, {});
  expect(rotated).toMatchObject({ tenant_id: tenant.id, name: 'ci', scope: 'full' });
  expect(rotated.key).not.toBe(fullKey.key);
  expect((await sdk(rotated.key!).beta.sessions.retrieve(session.id)).id).toBe(session.id);
  await expect(full.beta.sessions.retrieve(session.id)).rejects.toMatchObject({ status: 401 });
  await expect(admin.post(`/v1/admin/api_keys/${fullKey.id}/rotate`, {})).rejects.toMatchObject({ status: 409 });
  expect(await admin.get<ApiKey>(`/v1/admin/api_keys/${fullKey.id}`)).toMatchObject({ rotated_to: rotated.id });

  // Rotation with a grace period: both work until it ends.
  const graced = await admin.post<ApiKey>(`/v1/admin/api_keys/${rotated.id}/rotate`, {
    body: { grace_seconds: 3600 },
  });
  expect((await sdk(rotated.key!).beta.sessions.retrieve(session.id)).id).toBe(session.id);
  expect((await sdk(graced.key!).beta.sessions.retrieve(session.id)).id).toBe(session.id);
  expect((await admin.get<ApiKey>(`/v1/admin/api_keys/${rotated.id}`)).expires_at).not.toBeNull();

  // Revocation: 401 from the very next request; the listing keeps it only on request.
  const revoked = await admin.post<ApiKey>(`/v1/admin/api_keys/${readKey.id}/revoke`);
  expect(revoked.revoked_at).not.toBeNull();
  await expect(reader.beta.sessions.retrieve(session.id)).rejects.toMatchObject({ status: 401 });
  expect((await listKeys(tenant.id)).data.map((key) => key.id)).not.toContain(readKey.id);
  expect((await listKeys(tenant.id, true)).data.map((key) => key.id)).toContain(readKey.id);

  // Unknown ids are 404; bad input 400; the routes are in the OpenAPI document.
  await expect(admin.get('/v1/admin/tenants/tnt_missing')).rejects.toMatchObject({ status: 404 });
  await expect(admin.post('/v1/admin/api_keys/key_missing/revoke')).rejects.toMatchObject({ status: 404 });
  await expect(
    admin.post(`/v1/admin/tenants/${tenant.id}/api_keys`, { body: { scope: 'admin' } }),
  ).rejects.toMatchObject({ status: 400 });
  const openapi = (await (await harness.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(openapi.paths)).toEqual(
    expect.arrayContaining([
      '/v1/admin/tenants',
      '/v1/admin/tenants/{tenant_id}/api_keys',
      '/v1/admin/api_keys/{api_key_id}/rotate',
    ]),
  );
});
