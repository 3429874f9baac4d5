// Files in and out of the sandbox, through the official SDK: an uploaded file attached as a session resource is read
// by the agent at its default mount path (and cannot be changed); a file the agent writes under /mnt/session/outputs
// is listed as a session-scoped file and downloaded; a second capture of the same output adds no second file.
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { listEvents, post, waitForIdle } from '../fixtures/trace/scenario.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('session-files', { workers: ['session', 'model', 'sandbox'] });
});
afterAll(async () => {
  await harness?.stop();
});

const toolResultText = (event: { content?: unknown }): string => JSON.stringify(event.content ?? '');

it('mounts an uploaded file read-only and captures what the agent writes under the outputs folder', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const uploaded = await client.beta.files.upload({
    file: await toFile(Buffer.from('the secret ingredient is cardamom\n'), 'recipe.txt', { type: 'text/plain' }),
  });
  const mountPath = `/mnt/session/uploads/${uploaded.id}`;

  const model = `${harness.platform.prefix}-files`;
  harness.platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'bash', input: { command: `cat ${mountPath}` } }] },
    { toolCalls: [{ name: 'bash', input: { command: `echo changed > ${mountPath} || echo refused` } }] },
    {
      toolCalls: [
        {
          name: 'bash',
          input: { command: 'echo "total: 42" > /mnt/session/outputs/summary.txt' },
        },
      ],
    },
    { text: 'Done.' },
    { toolCalls: [{ name: 'bash', input: { command: 'ls /mnt/session/outputs' } }] },
    { text: 'Nothing new.' },
  ]);
  const agent = await post(harness, '/v1/agents', {
    name: 'files',
    model,
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const environment = await post(harness, '/v1/environments', { name: `env-${harness.platform.prefix}-files` });
  const session = await client.beta.sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    resources: [{ type: 'file', file_id: uploaded.id }],
  });
  expect(session.resources).toEqual([
    expect.objectContaining({ type: 'file', file_id: uploaded.id, mount_path: mountPath }),
  ]);

  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Read the recipe, write a summary.' }] }],
  });
  await waitForIdle(harness, session.id, 'end_turn');

  const results = (await listEvents(harness, session.id)).filter((event) => event.type === 'agent.tool_result');
  expect(toolResultText(results[0]!)).toContain('the secret ingredient is cardamom');
  expect(toolResultText(results[1]!)).toMatch(/Permission denied|refused/);

  // The capture runs right after the turn's idle event (with the turn-end snapshot).
  const listed = await eventually(
    async () => {
      const page = [];
      for await (const file of client.beta.files.list({ scope_id: session.id })) page.push(file);
      return page.length > 0 ? page : undefined;
    },
    30_000,
    'the captured output',
  );
  expect(listed).toEqual([
    expect.objectContaining({
      filename: 'summary.txt',
      scope: { id: session.id, type: 'session' },
      downloadable: true,
    }),
  ]);
  const content = await client.beta.files.download(listed[0]!.id);
  expect(await content.text()).toBe('total: 42\n');

  // A second turn ends with a second capture of the same folder: no duplicate file.
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Anything else?' }] }],
  });
  await waitForIdle(harness, session.id, 'end_turn', 2);
  // Give the second capture time to land (it runs after the idle event); the snapshot id changes once it has.
  await eventually(
    async () => {
      const { rows } = await harness.platform.pool.query(
        'select count(*)::int as n from sandbox_snapshots where session_id = $1',
        [session.id],
      );
      return (rows[0] as { n: number }).n >= 2 ? true : undefined;
    },
    30_000,
    'the second turn-end snapshot',
  );
  const again = [];
  for await (const file of client.beta.files.list({ scope_id: session.id })) again.push(file.id);
  expect(again).toEqual([listed[0]!.id]);
  // The upload itself is not scoped to the session.
  expect((await client.beta.files.retrieveMetadata(uploaded.id)).scope).toBeNull();
});
