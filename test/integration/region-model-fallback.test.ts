// Regions: the model queue prefers the session's region and falls back. A session placed in a region whose model
// workers are all gone (none started here) calls its region's model queue; no worker starts the call within
// modelRegionWaitMs, and the next attempt goes at once to the shared model queue, which answers. No session.error:
// the fallback is not a model failure.
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createSessionWorker } from '../../workers/session-worker.ts';
import { eventLine } from '../support/event-lines.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';

const region = `rm${process.pid}`;
let platform: TestPlatform;
let connection: NativeConnection;
let sessionWorker: Worker;
let running: Promise<void>;
beforeAll(async () => {
  // Only a model worker on the shared queue; the region's session worker runs here, its model workers nowhere.
  platform = await startTestPlatform({ label: 'region-model', workers: ['model'] });
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  sessionWorker = await createSessionWorker({
    connection,
    taskQueuePrefix: platform.prefix,
    pool: platform.pool,
    dataConverter: platform.dataConverter,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    region: { queue: region, own: region, staleMs: 30_000 },
  });
  running = sessionWorker.run();
});
afterAll(async () => {
  sessionWorker?.shutdown();
  await running;
  await connection?.close();
  await platform?.stop();
});

it('a model call its region does not pick up goes to the shared model queue', { timeout: 60_000 }, async () => {
  const model = `${platform.prefix}-region-model`;
  platform.fakeModel.setScript(model, [{ text: 'answered elsewhere' }]);
  const session = await new WorkflowSession(
    platform,
    agentSnapshot({ model: { id: model } }),
    fastSettings(platform.prefix, { region, modelRegionWaitMs: 1_000 }),
  ).start();
  await session.message('hello');
  const events = await session.waitForTurnEnd(1, 45_000);
  expect(events.map(eventLine)).toEqual([
    'user.message',
    'session.status_running',
    'span.model_request_start',
    'span.model_request_end error',
    'span.model_request_start',
    'span.model_request_end ok',
    'agent.message answered elsewhere',
    'session.status_idle end_turn',
  ]);
  await session.terminate('deleted');
});
