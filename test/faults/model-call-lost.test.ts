// Fault injection: a model call Temporal hands to no worker. The server records the attempt started (here: a poller of
// the test's own takes the task and drops it, which is what Temporal's matching does to a task whose start it recorded
// past its fixed 1 s on a stalled server, test/faults/temporal-stall.test.ts), no worker runs it, and it times out on
// its heartbeat with none recorded. The workflow retries such a call at once without a session.error
// (workflows/model-call.ts, lostOnTheWay): no provider saw it, so there is nothing to announce or repeat.
import { afterAll, beforeAll, expect, it } from 'vitest';
import proto from '@temporalio/proto';
import { taskQueues, withPrefix } from '../../domain/task-queues.ts';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { recordHistory } from '../support/histories.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';

const { TimeoutType } = proto.temporal.api.enums.v1;
let platform: TestPlatform;
let modelWorker: ManagedProcess | undefined;
beforeAll(async () => {
  // No model worker yet: the test's poller must be the only one on the model queue.
  platform = await startTestPlatform({ label: 'lost-call', workers: ['session'] });
});
afterAll(async () => {
  await modelWorker?.stop('SIGKILL');
  await platform?.stop();
});

it('retries a model call no worker got, without a session.error', async () => {
  const model = `${platform.prefix}-lost`;
  platform.fakeModel.setScript(model, [{ text: 'the only answer' }]);
  const settings = fastSettings(platform.prefix, { modelHeartbeatTimeoutMs: 2_000 });
  const session = await new WorkflowSession(platform, agentSnapshot({ model: { id: model } }), settings).start();
  // The task is taken off the queue and dropped: recorded as started, run by no one, no heartbeat.
  const { connection } = platform.client;
  const taken = connection.withDeadline(Date.now() + 60_000, () =>
    connection.workflowService.pollActivityTaskQueue({
      namespace: 'default',
      taskQueue: { name: withPrefix(platform.prefix, taskQueues.model) },
      identity: 'a poller that drops its task',
    }),
  );
  await session.message('hello');
  const task = await taken;
  expect(task.activityType?.name).toBe('invokeModel');
  modelWorker = await startWorkerProcess('model', { prefix: platform.prefix, fakeModelUrl: platform.fakeModel.url });

  const events = await session.waitForTurnEnd(1, 60_000);
  expect(events.map((event) => event.type)).toEqual([
    'user.message',
    'session.status_running',
    'span.model_request_start',
    'span.model_request_end',
    'span.model_request_start',
    'span.model_request_end',
    'agent.message',
    'session.status_idle',
  ]);
  expect(events.find((event) => event.type === 'agent.message')).toMatchObject({
    content: [{ text: 'the only answer' }],
  });
  expect(platform.fakeModel.requests(model)).toHaveLength(1);
  const history = (await session.handle.fetchHistory()).events ?? [];
  const timedOut = history.filter((event) => event.activityTaskTimedOutEventAttributes);
  expect(timedOut.map((event) => event.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo)).toEqual([
    expect.objectContaining({ timeoutType: TimeoutType.TIMEOUT_TYPE_HEARTBEAT, lastHeartbeatDetails: null }),
  ]);
  await recordHistory(platform.client, session.handle.workflowId, 'model-lost-call');
  await session.terminate();
}, 120_000);
