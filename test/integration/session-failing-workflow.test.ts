// A session whose workflow task keeps failing (issue 20): Temporal answers its queries with 'Workflow Task in failed
// state'. Reading it serves the journal's state, and deleting it still works (the workflow is terminated) — never a
// 500. The session runs as a code-defined agent on a queue served by a worker of this test's whose workflow throws.
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;

beforeAll(async () => {
  harness = await startApiHarness('failing-workflow', { workers: [] });
  taskQueue = `${harness.platform.prefix}-failing-sessions`;
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    dataConverter: harness.platform.dataConverter,
    workflowsPath: fileURLToPath(new URL('../fixtures/failing-session/index.ts', import.meta.url)),
  });
  running = worker.run();
}, 180_000);
afterAll(async () => {
  if (worker) {
    worker.shutdown();
    await running;
  }
  await connection?.close();
  await harness?.stop();
});

it('deletes a session whose workflow task is failing, through the official SDK', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const agent = await client.beta.agents.create({
    name: 'failing',
    model: `${harness.platform.prefix}-failing`,
    harness: { type: 'code', name: 'failing', task_queue: taskQueue },
  } as AgentCreateParams);
  const environment = await client.beta.environments.create({ name: `failing ${agent.id}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });

  // Once its task has failed and been retried, Temporal refuses the session's query outright.
  const handle = harness.platform.client.workflow.getHandle(sessionWorkflowId(session.id));
  await eventually(
    async () => {
      const refused: unknown = await handle.query('sessionState').catch((error: unknown) => error);
      return /workflow task in failed state/i.test(String((refused as Error | undefined)?.cause)) ? true : undefined;
    },
    60_000,
    "the query refused with 'Workflow Task in failed state'",
  );

  const read = await client.beta.sessions.retrieve(session.id);
  expect(read.id).toBe(session.id);

  // Temporal refuses the events update too: a message needs no verdict and is queued as the signal (accepted); an
  // answer needs the workflow's verdict and gets 503 with retry-after, never 500.
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'still there?' }] }],
  });
  const answered = await client.beta.sessions.events
    .send(session.id, { events: [{ type: 'user.tool_confirmation', tool_use_id: 'sevt_unknown', result: 'allow' }] })
    .catch((error: unknown) => error);
  expect(answered).toMatchObject({ status: 503 });
  expect((answered as { headers: Headers }).headers.get('retry-after')).toBeTruthy();

  const deleted = await client.beta.sessions.delete(session.id);
  expect(deleted).toMatchObject({ id: session.id, type: 'session_deleted' });
  expect((await handle.describe()).status.name).toBe('TERMINATED');
  await expect(client.beta.sessions.retrieve(session.id)).rejects.toMatchObject({ status: 404 });
}, 120_000);
