// Per-tenant payload encryption and key rotation, end to end: a tenant's session history is encrypted under its own
// data key (no plaintext in history); the codec endpoint decodes it for that tenant's key and refuses another tenant's
// (403), and refuses a tenant a platform-key payload; rotating the tenant's data key and the vault key leaves the old
// session decodable and running, and its credentials readable.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codecAuthorizer } from '../../api/codec-endpoint.ts';
import { startCodecServer, type RunningCodecServer } from '../../codec/codec-server.ts';
import { createCodecServerCodec, createDataConverter } from '../../codec/data-converter.ts';
import { encryptionKeyIdMetadataKey } from '../../codec/encryption-codec.ts';
import { encryptionTenantMetadataKey } from '../../codec/tenant-encryption-codec.ts';
import { issueApiKey } from '../../db/repositories/api-keys.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { SecretBox } from '../../db/repositories/secret-box.ts';
import { createTenantWithKey, type CreatedTenant } from '../../db/repositories/tenants.ts';
import { developmentPayloadKeys, developmentVaultKey, parsePayloadKeys } from '../../domain/config.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { eventually, startApiHarness, startApiOn, type ApiHarness } from '../support/api-harness.ts';
import { collectPayloads, sessionHistoryText } from '../support/history-text.ts';

let harness: ApiHarness;
let codecServer: RunningCodecServer;
let tenantB: CreatedTenant;
let adminKey: string;
const platformKeys = parsePayloadKeys(developmentPayloadKeys);

beforeAll(async () => {
  harness = await startApiHarness('tenant-encryption');
  tenantB = await createTenantWithKey(harness.platform.pool, 'tenant-encryption B');
  adminKey = (await issueApiKey(harness.platform.pool, { tenantId: null, name: 'admin', scope: 'admin' })).key;
  codecServer = await startCodecServer({
    port: 0,
    codec: createCodecServerCodec({ pool: harness.platform.pool, ...platformKeys }),
    allowedOrigins: [],
    authorize: codecAuthorizer('operator-token', harness.platform.pool),
  });
});
afterAll(async () => {
  await codecServer?.close();
  await harness?.stop();
});

const toJson = (payloads: Payload[]) => ({
  payloads: payloads.map((payload) => ({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  })),
});

async function decodeVia(payloads: Payload[], headers: Record<string, string>) {
  const response = await fetch(`${codecServer.url}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(toJson(payloads)),
  });
  const body = (await response.json()) as { payloads?: { data: string }[]; error?: string };
  const text = (body.payloads ?? []).map((payload) => Buffer.from(payload.data, 'base64').toString('utf8')).join('\n');
  return { status: response.status, text, body };
}

async function post(path: string, body: unknown, apiKey?: string): Promise<Record<string, unknown>> {
  const response = await harness.request(path, { method: 'POST', body: JSON.stringify(body), apiKey });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as Record<string, unknown>;
}

async function turn(sessionId: string, text: string, idleCount: number): Promise<void> {
  await post(`/v1/sessions/${sessionId}/events`, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  await eventually(
    async () => {
      const events = await readEvents(harness.platform.pool, sessionId);
      return events.filter(({ event }) => event.type === 'session.status_idle').length >= idleCount ? true : undefined;
    },
    30_000,
    'the end of the turn',
  );
}

const historyPayloads = async (sessionId: string) =>
  collectPayloads(await harness.platform.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory());
const meta = (payload: Payload, key: string) => Buffer.from(payload.metadata?.[key] ?? []).toString('utf8');

describe('per-tenant payload encryption', () => {
  let sessionId: string;
  const canary = `tenant-canary-${randomUUID()}`;

  it("encrypts a tenant's history under its own data key, decodable only with that tenant's credentials", async () => {
    const model = `${harness.platform.prefix}-tenant`;
    harness.platform.fakeModel.setScript(model, [{ text: `first answer ${canary}` }, { text: 'second answer' }]);
    const agent = await post('/v1/agents', { name: 'tenant keys', model, tools: [] });
    const environment = await post('/v1/environments', { name: `tenant-keys-${harness.platform.prefix}` });
    sessionId = (await post('/v1/sessions', { agent: agent.id, environment_id: environment.id })).id as string;
    await turn(sessionId, `hello ${canary}`, 1);

    const history = await sessionHistoryText(harness.platform.client, harness.platform.dataConverter, sessionId);
    expect(history.raw).not.toContain(canary);
    expect(history.decoded).toContain(canary);

    const payloads = await historyPayloads(sessionId);
    const encrypted = payloads.filter((payload) => meta(payload, 'encoding') === 'binary/encrypted');
    expect(encrypted.length).toBeGreaterThan(0);
    // Every encrypted payload of the session is the tenant's, under a data key (none under the platform key).
    for (const payload of encrypted) {
      expect(meta(payload, encryptionTenantMetadataKey)).toBe(harness.tenant.tenantId);
      expect(meta(payload, encryptionKeyIdMetadataKey)).toMatch(/^tdk_/);
    }

    const own = await decodeVia(encrypted, { 'x-api-key': harness.tenant.apiKey });
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    expect(own.text).toContain(canary);
    const other = await decodeVia(encrypted, { 'x-api-key': tenantB.apiKey });
    expect(other.status).toBe(403);
    expect(JSON.stringify(other.body)).not.toContain(canary);
    // One foreign payload in a batch refuses the whole batch.
    expect((await decodeVia(encrypted.slice(0, 1), { authorization: `Bearer ${tenantB.apiKey}` })).status).toBe(403);
    expect((await decodeVia(encrypted, { authorization: 'Bearer operator-token' })).text).toContain(canary);
    expect((await decodeVia(encrypted, { 'x-api-key': adminKey })).status).toBe(200);
    expect((await decodeVia(encrypted, {})).status).toBe(401);
    expect((await decodeVia(encrypted, { 'x-api-key': 'sk-agents-not-a-key' })).status).toBe(401);

    // A payload under the platform key (what every workflow without a tenant, and all older history, uses) is the
    // operator's only.
    const [platformPayload] = await createDataConverter({
      pool: harness.platform.pool,
      ...platformKeys,
    }).payloadCodecs![1]!.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') }]);
    expect((await decodeVia([platformPayload!], { 'x-api-key': harness.tenant.apiKey })).status).toBe(403);
    expect((await decodeVia([platformPayload!], { authorization: 'Bearer operator-token' })).text).toBe('"x"');
  });

  it("rotates a tenant's data key: old payloads still decode, the session continues, new payloads use the new key", async () => {
    const before = await historyPayloads(sessionId);
    const oldKeyId = meta(
      before.find((payload) => meta(payload, encryptionTenantMetadataKey))!,
      encryptionKeyIdMetadataKey,
    );
    const rotate = await harness.request(`/v1/admin/tenants/${harness.tenant.tenantId}/data_keys`, {
      method: 'POST',
      apiKey: adminKey,
    });
    const rotated = (await rotate.json()) as { id: string; tenant_id: string };
    expect(rotate.status).toBe(200);
    expect(rotated.id).not.toBe(oldKeyId);
    const listed = (await (
      await harness.request(`/v1/admin/tenants/${harness.tenant.tenantId}/data_keys`, { apiKey: adminKey })
    ).json()) as { data: { id: string }[] };
    expect(listed.data.map((key) => key.id)).toEqual([rotated.id, oldKeyId]);
    // A tenant's own key does not reach the admin routes.
    expect(
      (await harness.request(`/v1/admin/tenants/${harness.tenant.tenantId}/data_keys`, { method: 'POST' })).status,
    ).toBe(403);

    // The running session carries on (its process may still encrypt with the old key for a refresh interval).
    await turn(sessionId, 'and again', 2);
    const after = await historyPayloads(sessionId);
    const decoded = await decodeVia(
      after.filter((payload) => meta(payload, encryptionTenantMetadataKey)),
      { 'x-api-key': harness.tenant.apiKey },
    );
    expect(decoded.status).toBe(200);
    expect(decoded.text).toContain(canary);
    expect(decoded.text).toContain('second answer');

    // A process that reads the tenant's key now (as every one does within AGENTS_TENANT_KEY_REFRESH_SECONDS) encrypts
    // the session's new payloads under the new key.
    const fresh = createDataConverter({ pool: harness.platform.pool, ...platformKeys });
    const [encoded] = await fresh.payloadCodecs![1]!.encode(
      [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"new"') }],
      { type: 'workflow', namespace: 'default', workflowId: sessionWorkflowId(sessionId) },
    );
    expect(meta(encoded!, encryptionKeyIdMetadataKey)).toBe(rotated.id);
    expect((await decodeVia([encoded!], { 'x-api-key': harness.tenant.apiKey })).text).toBe('"new"');
    expect((await decodeVia([encoded!], { 'x-api-key': tenantB.apiKey })).status).toBe(403);
  });
});

describe('vault key rotation', () => {
  it('keeps sealed secrets readable through a rotation and re-seals them under the new key', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const canary = `vault-canary-${randomUUID()}`;
    // An API sealing with the old key creates a credential.
    const oldApi = await startApiOn(harness.platform, 'vault-old', { config: { AGENTS_VAULT_KEY: oldKey } });
    const request = (path: string, body?: unknown) =>
      oldApi.request(path, { method: 'POST', body: JSON.stringify(body ?? {}), apiKey: harness.tenant.apiKey });
    const vault = (await (await request('/v1/vaults', { display_name: 'rotating' })).json()) as { id: string };
    const credential = (await (
      await request(`/v1/vaults/${vault.id}/credentials`, {
        auth: { type: 'static_bearer', mcp_server_url: 'https://mcp.example.com/mcp', token: canary },
      })
    ).json()) as { id: string };
    await oldApi.stop();
    const sealedOf = async () =>
      (
        await harness.platform.pool.query<{ secret: Buffer }>('select secret from vault_credentials where id = $1', [
          credential.id,
        ])
      ).rows[0]!.secret;
    const sealed = await sealedOf();
    expect(sealed.toString('latin1')).not.toContain(canary);

    // Mid-rotation every process runs the new key for sealing and the old one as an extra: both kinds open.
    const midRotation = new SecretBox(developmentVaultKey, [oldKey]);
    expect(midRotation.open(sealed, credential.id)).toContain(canary);
    expect(midRotation.isCurrent(sealed)).toBe(false);

    // The harness API runs the development key (the new one here); re-sealing moves the credential to it.
    const newApi = await startApiOn(harness.platform, 'vault-new', {
      config: { AGENTS_VAULT_EXTRA_KEYS: oldKey },
    });
    const adminIssued = await issueApiKey(harness.platform.pool, { tenantId: null, name: 'reseal', scope: 'admin' });
    const reseal = await newApi.request('/v1/admin/vault_key/reseal', { method: 'POST', apiKey: adminIssued.key });
    const result = (await reseal.json()) as { resealed: number; key_id: string };
    expect(reseal.status, JSON.stringify(result)).toBe(200);
    expect(result.resealed).toBeGreaterThanOrEqual(1);
    expect(result.key_id).toBe(midRotation.currentKeyId);
    await newApi.stop();

    const resealed = await sealedOf();
    const newOnly = new SecretBox(developmentVaultKey);
    expect(newOnly.isCurrent(resealed)).toBe(true);
    expect(newOnly.open(resealed, credential.id)).toContain(canary);
    expect(() => new SecretBox(oldKey).open(resealed, credential.id)).toThrow();
    // Bytes sealed before key ids (v1) still open with whichever configured key made them.
    expect(legacySealedOpens(oldKey)).toBe(true);
  });
});

function legacySealedOpens(key: string): boolean {
  const v2 = new SecretBox(key).seal('legacy', 'aad');
  const v1 = Buffer.concat([Buffer.from('v1'), v2.subarray(10)]);
  return new SecretBox(developmentVaultKey, [key]).open(v1, 'aad') === 'legacy';
}
