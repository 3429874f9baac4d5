// Dreams through the official SDK, with the fake model: a dream runs to `completed` and writes a reorganised new store
// (a copy of the input with the model's writes and deletions applied) while the input stays as it was; a dream that
// would update its input store in place, canceled while its model call is in flight, leaves the input unchanged.
// Neither dream's Temporal history holds memory content (decoded through the platform's codec): the prompt, the
// conversation and the staged writes stay in PostgreSQL, and are deleted when the dream ends.
import Anthropic from '@anthropic-ai/sdk';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dreamWorkflowId } from '../../domain/dreams.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { collectPayloads } from '../support/history-text.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
let client: Anthropic;

beforeAll(async () => {
  harness = await startApiHarness('dreams', { workers: ['model', 'automation'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.stop();
});

async function contentsOf(storeId: string): Promise<Record<string, string>> {
  const contents: Record<string, string> = {};
  for await (const item of client.beta.memoryStores.memories.list(storeId, { view: 'full' })) {
    if (item.type === 'memory') contents[item.path] = item.content ?? '';
  }
  return contents;
}

async function versionCount(storeId: string): Promise<number> {
  let count = 0;
  for await (const version of client.beta.memoryStores.memoryVersions.list(storeId)) if (version.id) count++;
  return count;
}

/** A dream's history, its payloads decoded through the platform's codecs. */
async function decodedHistory(temporal: Client, dataConverter: DataConverter, dreamId: string): Promise<string> {
  let payloads = collectPayloads(await temporal.workflow.getHandle(dreamWorkflowId(dreamId)).fetchHistory());
  expect(payloads.length).toBeGreaterThan(0);
  for (const codec of [...(dataConverter.payloadCodecs ?? [])].reverse()) payloads = await codec.decode(payloads);
  return payloads.map((payload) => Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')).join('\n');
}

/** No memory content (what the store held, what the model wrote, the instructions) in the dream's history. */
async function expectNoContentInHistory(dreamId: string): Promise<void> {
  const history = await decodedHistory(harness.platform.client, harness.platform.dataConverter, dreamId);
  // A control: the decoded history does hold the dream's own input.
  expect(history).toContain(`"dreamId":"${dreamId}"`);
  for (const content of ['likes teal', 'vegetarian', 'teal; vegetarian', 'Merge duplicates.']) {
    expect(history).not.toContain(content);
  }
  const { rows } = await harness.platform.pool.query('select 1 from dream_conversations where dream_id = $1', [
    dreamId,
  ]);
  expect(rows).toEqual([]);
}

async function seededStore(name: string) {
  const store = await client.beta.memoryStores.create({ name });
  for (const [path, content] of Object.entries({
    '/colours.md': 'likes teal',
    '/colours-again.md': 'likes teal a lot',
    '/food.md': 'vegetarian',
  })) {
    await client.beta.memoryStores.memories.create(store.id, { path, content });
  }
  return store;
}

const writeCalls = {
  toolCalls: [
    { name: 'write_memory', input: { path: '/colours.md', content: 'likes teal (a lot)' } },
    { name: 'delete_memory', input: { path: '/colours-again.md' } },
    { name: 'write_memory', input: { path: '/summary.md', content: 'teal; vegetarian' } },
  ],
};

it('a dream runs to completed and writes a reorganised new store; the input is unchanged', async () => {
  const store = await seededStore('Prefs');
  const before = await contentsOf(store.id);
  const model = `${harness.platform.prefix}-dream`;
  harness.platform.fakeModel.setScript(model, [writeCalls, { text: 'Merged the colour notes.' }]);

  const created = await client.beta.dreams.create({
    inputs: [{ type: 'memory_store', memory_store_id: store.id }],
    model,
    instructions: 'Merge duplicates.',
  });
  expect(created).toMatchObject({ status: 'pending', outputs: [], output_behavior: { type: 'create_new' } });

  const done = await eventually(
    async () => {
      const dream = await client.beta.dreams.retrieve(created.id);
      return dream.status === 'completed' || dream.status === 'failed' ? dream : undefined;
    },
    60_000,
    'the dream to end',
  );
  expect(done).toMatchObject({ status: 'completed', error: null, model: { id: model, speed: 'standard' } });
  expect(done.ended_at).toEqual(expect.any(String));
  expect(done.usage.input_tokens).toBeGreaterThan(0);
  expect(done.usage.output_tokens).toBeGreaterThan(0);
  const output = done.outputs[0]!.memory_store_id;
  expect(output).not.toBe(store.id);
  expect(await contentsOf(output)).toEqual({
    '/colours.md': 'likes teal (a lot)',
    '/food.md': 'vegetarian',
    '/summary.md': 'teal; vegetarian',
  });
  expect(await contentsOf(store.id)).toEqual(before);
  // The model read the store and the instructions in its first request.
  const firstRequest = JSON.stringify(harness.platform.fakeModel.requests(model)[0]?.body.messages);
  expect(firstRequest).toContain('likes teal a lot');
  expect(firstRequest).toContain('Merge duplicates.');

  // Archived dreams leave the default list but can still be fetched.
  await client.beta.dreams.archive(done.id);
  const listed = [];
  for await (const dream of client.beta.dreams.list()) listed.push(dream.id);
  expect(listed).not.toContain(done.id);
  expect((await client.beta.dreams.retrieve(done.id)).archived_at).toEqual(expect.any(String));
  await expectNoContentInHistory(done.id);
  await recordHistory(harness.platform.client, dreamWorkflowId(done.id), 'dream-completed-by-reference');
}, 120_000);

it('canceling a dream mid-run leaves its input store unchanged', async () => {
  const store = await seededStore('Work notes');
  const before = await contentsOf(store.id);
  const versionsBefore = await versionCount(store.id);
  const model = `${harness.platform.prefix}-dream-cancel`;
  harness.platform.fakeModel.setScript(model, [
    writeCalls,
    { text: 'Almost done.', holdAfterFirstChunk: 'dream-cancel' },
    { text: 'unreachable' },
  ]);

  const created = await client.beta.dreams.create({
    inputs: [{ type: 'memory_store', memory_store_id: store.id }],
    model,
    output_behavior: { type: 'update_existing', memory_store_id: store.id },
  });
  // A second in-place dream on the same store is refused while this one runs.
  await expect(
    client.beta.dreams.create({
      inputs: [{ type: 'memory_store', memory_store_id: store.id }],
      model,
      output_behavior: { type: 'update_existing', memory_store_id: store.id },
    }),
  ).rejects.toMatchObject({ status: 409 });
  // The model has staged its writes and is in its second call, held open.
  await eventually(
    async () => (harness.platform.fakeModel.held().includes('dream-cancel') ? true : undefined),
    60_000,
    'the held model call',
  );
  const canceled = await client.beta.dreams.cancel(created.id);
  expect(canceled.status).toBe('canceled');
  await harness.platform.client.workflow.getHandle(dreamWorkflowId(created.id)).result();

  expect(await client.beta.dreams.retrieve(created.id)).toMatchObject({ status: 'canceled', error: null });
  expect(await contentsOf(store.id)).toEqual(before);
  expect(await versionCount(store.id)).toBe(versionsBefore);
  // A canceled dream cannot be canceled into anything else, and a completed one cannot be canceled.
  expect((await client.beta.dreams.cancel(created.id)).status).toBe('canceled');
  await expectNoContentInHistory(created.id);
  await recordHistory(harness.platform.client, dreamWorkflowId(created.id), 'dream-canceled-by-reference');
}, 120_000);
