// Idempotency-Key takeover for the creating POSTs beyond sessions and events: when the API process that claimed a key
// died before storing its answer, the identical retry (after the lease) runs again; the resource's id is derived from
// the key and the request, so the retry finds what the first attempt made and answers it instead of making a second.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
let client: Anthropic;

beforeAll(async () => {
  harness = await startApiHarness('idem-create', { workers: [] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.stop();
});

/** As if the API process had died after creating and before storing its answer, longer ago than the lease. */
async function forgetAnswer(key: string): Promise<void> {
  const { rowCount } = await harness.platform.pool.query(
    `update idempotency_keys set status = null, content_type = null, body = null,
       created_at = now() - interval '2 minutes' where key = $1`,
    [key],
  );
  expect(rowCount).toBe(1);
}

const count = async (table: string) =>
  Number(
    (
      await harness.platform.pool.query<{ count: string }>(`select count(*) from ${table} where tenant_id = $1`, [
        harness.tenant.tenantId,
      ])
    ).rows[0]?.count,
  );

/** Creates with a key, loses the answer, retries: the same resource, and one row of it in `table`. */
async function takeOver<T extends { id: string }>(
  table: string,
  create: (options: { headers: Record<string, string> }) => Promise<T>,
): Promise<T> {
  const key = `${table}-${harness.platform.prefix}`;
  const options = { headers: { 'Idempotency-Key': key } };
  const before = await count(table);
  const made = await create(options);
  expect(made.id).toEqual(expect.any(String));
  await forgetAnswer(key);
  const remade = await create(options);
  expect(remade).toEqual(made);
  expect(await count(table)).toBe(before + 1);
  return made;
}

it('a taken-over create of agents, environments, vaults, credentials, files, memory stores, memories, skills and dreams makes one', async () => {
  await takeOver('agents', (options) =>
    client.beta.agents.create({ name: 'idem agent', model: 'claude-sonnet-4-5' }, options),
  );
  await takeOver('environments', (options) =>
    client.beta.environments.create({ name: `idem-env-${harness.platform.prefix}` }, options),
  );
  const vault = await takeOver('vaults', (options) =>
    client.beta.vaults.create({ display_name: 'idem vault' }, options),
  );
  await takeOver('vault_credentials', (options) =>
    client.beta.vaults.credentials.create(
      vault.id,
      {
        display_name: 'idem token',
        auth: { type: 'static_bearer', token: 'idem-secret-token', mcp_server_url: 'https://mcp.example.com/mcp' },
      },
      options,
    ),
  );
  // One multipart body for both attempts, as a client's retry sends (the SDK draws a new boundary per call).
  const boundary = 'idem-boundary';
  const upload = [
    `--${boundary}`,
    'Content-Disposition: form-data; name="file"; filename="idem.txt"',
    'Content-Type: text/plain',
    '',
    'idem file',
    `--${boundary}--`,
    '',
  ].join('\r\n');
  await takeOver('files', async (options) => {
    const response = await harness.request('/v1/files', {
      method: 'POST',
      headers: { ...options.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: upload,
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { id: string };
  });
  const store = await takeOver('memory_stores', (options) =>
    client.beta.memoryStores.create({ name: 'idem store' }, options),
  );
  await takeOver('memories', (options) =>
    client.beta.memoryStores.memories.create(store.id, { path: '/idem.md', content: 'once' }, options),
  );
  // One version of the memory: the retry wrote nothing.
  expect(await count('memory_versions')).toBe(1);

  // A skill, from one multipart body as above.
  const skillUpload = [
    `--${boundary}`,
    'Content-Disposition: form-data; name="files[]"; filename="idem-skill/SKILL.md"',
    'Content-Type: text/markdown',
    '',
    '---\nname: idem-skill\ndescription: Made once.\n---\nBody.',
    `--${boundary}--`,
    '',
  ].join('\r\n');
  await takeOver('skills', async (options) => {
    const response = await harness.request('/v1/skills', {
      method: 'POST',
      headers: { ...options.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: skillUpload,
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { id: string };
  });
  // A dream: one row and one workflow (the retry starts it only if the first attempt had not).
  const dream = await takeOver('dreams', (options) =>
    client.beta.dreams.create({ inputs: [{ type: 'memory_store', memory_store_id: store.id }], model: 'm' }, options),
  );
  const runs = [];
  for await (const run of harness.platform.client.workflow.list({ query: `WorkflowId = 'dream-${dream.id}'` })) {
    runs.push(run);
  }
  expect(runs).toHaveLength(1);
});
