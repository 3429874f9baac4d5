// User events reach the session as an update whose reply is the workflow's verdict. With no session worker to give
// one (all down, a deploy), a batch that needs no verdict (a message) is still accepted — queued durably as the
// signal — while an answer, which only the workflow can judge, gets a 503 in the one error shape.
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('api-user-events', { workers: [] });
});
afterAll(async () => {
  await harness?.stop();
});

const post = async (path: string, body: unknown) =>
  harness.request(path, { method: 'POST', body: JSON.stringify(body) });

describe('user events without a session worker', () => {
  it('queues a message as the signal, and answers 503 to an answer', async () => {
    const agent = (await (await post('/v1/agents', { name: 'no worker', model: 'm-none', tools: [] })).json()) as {
      id: string;
    };
    const environment = (await (
      await post('/v1/environments', { name: `no-worker-${harness.platform.prefix}` })
    ).json()) as { id: string };
    const session = (await (
      await post('/v1/sessions', { agent: agent.id, environment_id: environment.id })
    ).json()) as {
      id: string;
    };

    const message = await post(`/v1/sessions/${session.id}/events`, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
    });
    expect(message.status).toBe(200);
    const [sent] = ((await message.json()) as { data: { id: string }[] }).data;

    const answer = await post(`/v1/sessions/${session.id}/events`, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: 'sevt_unknown', result: 'allow' }],
    });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).not.toBeNull();
    expect(await answer.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });

    const history = await harness.platform.client.workflow.getHandle(sessionWorkflowId(session.id)).fetchHistory();
    const signals = (history.events ?? []).filter(
      (event) => event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    );
    expect(signals).toHaveLength(1);
    expect(signals[0]!.workflowExecutionSignaledEventAttributes?.signalName).toBe('userEvents');
    expect(sent?.id).toMatch(/^sevt_/);
    await harness.platform.client.workflow.getHandle(sessionWorkflowId(session.id)).terminate('test over');
  });
});
