// The per-tenant codec on its own: a tenant's workflow encodes under the tenant's data key, decoding needs only the
// platform keys (the wrapped key rides in the payload), a payload relabelled to another tenant fails authentication,
// a caller limited to another tenant is refused, and platform-key payloads (all older history) still decode.
import { randomBytes } from 'node:crypto';
import { type Payload, ValueError } from '@temporalio/common';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { PayloadAccessDenied } from '../../codec/codec-access.ts';
import { EncryptionCodec, encryptionKeyIdMetadataKey } from '../../codec/encryption-codec.ts';
import { encryptionTenantMetadataKey, TenantEncryptionCodec } from '../../codec/tenant-encryption-codec.ts';
import { encodingForTenant } from '../../codec/tenant-hint.ts';
import { TenantKeyring } from '../../codec/tenant-keyring.ts';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';

let pool: pg.Pool;
let tenantA: string;
let tenantB: string;
const keys = { p1: randomBytes(32) };
const platform = new EncryptionCodec({ keys, currentKeyId: 'p1' });
const plain: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"tenant secret"') };
const context = (workflowId: string) => ({ type: 'workflow' as const, namespace: 'default', workflowId });

function codecOn(db: Pick<pg.Pool, 'query'>, owners: Record<string, string> = {}) {
  return new TenantEncryptionCodec({
    platform,
    keyring: new TenantKeyring({ pool: db, platformKeys: keys, currentPlatformKeyId: 'p1' }),
    tenantOfWorkflow: async (workflowId) => owners[workflowId],
  });
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  tenantA = (await createTenantWithKey(pool, 'codec unit A')).tenantId;
  tenantB = (await createTenantWithKey(pool, 'codec unit B')).tenantId;
});
afterAll(async () => {
  await pool?.end();
});

it("encodes a tenant's workflow under its data key and decodes with the platform keys alone", async () => {
  const [encoded] = await codecOn(pool, { 'wf-a': tenantA }).encode([plain], context('wf-a'));
  const meta = (key: string) => Buffer.from(encoded!.metadata![key]!).toString('utf8');
  expect(meta(encryptionTenantMetadataKey)).toBe(tenantA);
  expect(meta(encryptionKeyIdMetadataKey)).toMatch(/^tdk_/);
  expect(Buffer.from(encoded!.data!).toString('latin1')).not.toContain('tenant secret');
  const noDatabase = { query: () => Promise.reject(new Error('decoding must not need the database')) };
  const [decoded] = await codecOn(noDatabase).decode([encoded!]);
  expect(Buffer.from(decoded!.data!).toString('utf8')).toBe('"tenant secret"');

  const relabelled: Payload = {
    ...encoded!,
    metadata: { ...encoded!.metadata, [encryptionTenantMetadataKey]: Buffer.from(tenantB) },
  };
  await expect(codecOn(noDatabase).decode([relabelled])).rejects.toThrow(ValueError);
  await expect(codecOn(pool).forAccess({ kind: 'tenant', tenantId: tenantB }).decode([encoded!])).rejects.toThrow(
    PayloadAccessDenied,
  );
  const own = await codecOn(pool).forAccess({ kind: 'tenant', tenantId: tenantA }).decode([encoded!]);
  expect(Buffer.from(own[0]!.data!).toString('utf8')).toBe('"tenant secret"');
});

it('keeps the platform key for workflows without a tenant, and decodes payloads written before tenant keys', async () => {
  const [unowned] = await codecOn(pool).encode([plain], context('webhook-x'));
  expect(unowned!.metadata![encryptionTenantMetadataKey]).toBeUndefined();
  const [older] = await platform.encode([plain]);
  for (const payload of [unowned!, older!]) {
    expect(Buffer.from((await codecOn(pool).decode([payload]))[0]!.data!).toString('utf8')).toBe('"tenant secret"');
    await expect(codecOn(pool).forAccess({ kind: 'tenant', tenantId: tenantA }).decode([payload])).rejects.toThrow(
      PayloadAccessDenied,
    );
  }
});

it('encodes under the platform key, never fails, while the database is out of reach', async () => {
  // The sandbox worker once exited when PostgreSQL went down: the SDK shut its worker down over a completion whose
  // encoding failed on the tenant lookup. Now the payload stays encrypted under the platform key (operator-only).
  const down = { query: () => Promise.reject(new Error('connect ECONNREFUSED')) };
  const lookupFails = new TenantEncryptionCodec({
    platform,
    keyring: new TenantKeyring({ pool: down, platformKeys: keys, currentPlatformKeyId: 'p1' }),
    tenantOfWorkflow: () => Promise.reject(new Error('connect ECONNREFUSED')),
  });
  const keyFails = codecOn(down, { 'wf-down': tenantA });
  for (const codec of [lookupFails, keyFails]) {
    const [encoded] = await codec.encode([plain], context('wf-down'));
    expect(encoded!.metadata![encryptionTenantMetadataKey]).toBeUndefined();
    expect(Buffer.from(encoded!.data!).toString('latin1')).not.toContain('tenant secret');
    expect(Buffer.from((await codecOn(pool).decode([encoded!]))[0]!.data!).toString('utf8')).toBe('"tenant secret"');
  }
});

it('rotates: a new data key for new payloads, the old one still decodes', async () => {
  const keyring = new TenantKeyring({ pool, platformKeys: keys, currentPlatformKeyId: 'p1' });
  const codec = new TenantEncryptionCodec({ platform, keyring, tenantOfWorkflow: async () => tenantB });
  const [before] = await codec.encode([plain], context('wf-b'));
  const rotated = await keyring.rotate(tenantB);
  const [after] = await codec.encode([plain], context('wf-b'));
  const keyId = (payload: Payload) => Buffer.from(payload.metadata![encryptionKeyIdMetadataKey]!).toString('utf8');
  expect(keyId(after!)).toBe(rotated.id);
  expect(keyId(before!)).not.toBe(rotated.id);
  const decoded = await codecOn(pool).decode([before!, after!]);
  expect(decoded.map((payload) => Buffer.from(payload.data!).toString('utf8'))).toEqual([
    '"tenant secret"',
    '"tenant secret"',
  ]);
});

it('keeps encoding under the key in hand while it asks the database again, and takes the newer key when it answers', async () => {
  // The API encodes a session's start inside the transaction that inserted its row: with every pool connection held
  // by such transactions, a refresh that waited for a connection deadlocked them all (P4′ at 20 creations in flight).
  let stalled = false;
  const db = {
    query: (...args: Parameters<pg.Pool['query']>) => (stalled ? new Promise(() => undefined) : pool.query(...args)),
  } as unknown as Pick<pg.Pool, 'query'>;
  const keyring = new TenantKeyring({ pool: db, platformKeys: keys, currentPlatformKeyId: 'p1', refreshMs: 1 });
  const first = await keyring.currentKey(tenantA);
  stalled = true;
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect((await keyring.currentKey(tenantA)).id).toBe(first.id); // the refresh never answers; the key still serves
  stalled = false;

  const elsewhere = new TenantKeyring({ pool, platformKeys: keys, currentPlatformKeyId: 'p1' });
  const fresh = new TenantKeyring({ pool, platformKeys: keys, currentPlatformKeyId: 'p1', refreshMs: 1 });
  const held = await fresh.currentKey(tenantA);
  const rotated = await elsewhere.rotate(tenantA);
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect((await fresh.currentKey(tenantA)).id).toBe(held.id); // served at once; the refresh starts
  await expect.poll(async () => (await fresh.currentKey(tenantA)).id).toBe(rotated.id);
});

it("encodes a session's start under the hinted tenant without looking the workflow up", async () => {
  // The API starts the workflow inside the transaction that inserted the session's row; a lookup there waited for a
  // pool connection while the API's own transactions held them all.
  await new TenantKeyring({ pool, platformKeys: keys, currentPlatformKeyId: 'p1' }).currentKey(tenantA);
  const codec = new TenantEncryptionCodec({
    platform,
    keyring: new TenantKeyring({ pool, platformKeys: keys, currentPlatformKeyId: 'p1' }),
    tenantOfWorkflow: () => new Promise(() => undefined), // every connection held: the lookup never answers
  });
  const [encoded] = await encodingForTenant(tenantA, () => codec.encode([plain], context('session-sesn_new')));
  expect(Buffer.from(encoded!.metadata![encryptionTenantMetadataKey]!).toString('utf8')).toBe(tenantA);
});
