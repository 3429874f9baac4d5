// OpenTelemetry through Temporal's interceptors: a session run on a worker that caches no workflows (every activation
// replays the history from the start) emits each workflow-side span once, and activity executions are traced too.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createModelWorker } from '../../workers/model-worker.ts';
import { createSessionWorker } from '../../workers/session-worker.ts';
import { createTracing, type Tracing } from '../../workers/tracing.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';

let platform: TestPlatform;
let connection: NativeConnection;
let tracing: Tracing;
const exporter = new InMemorySpanExporter();
const workers: Worker[] = [];
let running: Promise<unknown>;

beforeAll(async () => {
  // Only the platform's client, pool and fake model; the traced workers are made here.
  platform = await startTestPlatform({ label: 'otel', workers: [] });
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  tracing = createTracing(new SimpleSpanProcessor(exporter), 'agents-test');
  workers.push(
    await createSessionWorker({
      connection,
      taskQueuePrefix: platform.prefix,
      pool: platform.pool,
      dataConverter: platform.dataConverter,
      maxCachedWorkflows: 0, // force a full replay on every workflow task
      plugins: [tracing.plugin],
    }),
    await createModelWorker({
      connection,
      taskQueuePrefix: platform.prefix,
      pool: platform.pool,
      dataConverter: platform.dataConverter,
      endpoints: { anthropic: {}, openai: {}, fallbackBaseUrl: platform.fakeModel.url },
      plugins: [tracing.plugin],
    }),
  );
  running = Promise.all(workers.map((worker) => worker.run()));
}, 180_000);

afterAll(async () => {
  for (const worker of workers) worker.shutdown();
  await running;
  await tracing?.shutdown();
  await connection?.close();
  await platform?.stop();
});

describe('OpenTelemetry tracing', () => {
  it('emits no duplicate spans when every workflow task replays', async () => {
    const model = `${platform.prefix}-otel`;
    platform.fakeModel.setScript(model, [{ text: 'one' }, { text: 'two' }]);
    const session = await new WorkflowSession(
      platform,
      agentSnapshot({ model: { id: model } }),
      fastSettings(platform.prefix),
    ).start();
    await session.message('first');
    await session.waitForTurnEnd(1);
    await session.message('second');
    await session.waitForTurnEnd(2);
    await session.terminate();

    const spans = exporter.getFinishedSpans().filter(
      // Workflow-side spans carry `workflowId`, activity executions `temporalWorkflowId`.
      (span) =>
        span.attributes.workflowId === session.handle.workflowId ||
        span.attributes.temporalWorkflowId === session.handle.workflowId,
    );
    const count = (name: string) => spans.filter((span) => span.name === name).length;
    // Two model calls: each started once by the workflow and executed once by the model worker.
    expect(count('StartActivity:invokeModel')).toBe(2);
    expect(count('RunActivity:invokeModel')).toBe(2);
    // Two message signals and one termination, each handled once, in one workflow run.
    expect(count('HandleSignal:userEvents')).toBe(2);
    expect(count('HandleSignal:terminateSession')).toBe(1);
    expect(count('RunWorkflow:sessionWorkflow')).toBe(1);
    // No two spans share an id.
    const ids = spans.map((span) => span.spanContext().spanId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
