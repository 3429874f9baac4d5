// Per-agent limits: max_turns bounds model calls per user turn, max_output_tokens reaches the provider, token_budget
// stops the session's spending with stop_reason budget_reached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, lastOfType, WorkflowSession } from '../support/workflow-session.ts';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'limits', workers: ['session', 'model', 'backend'] });
});
afterAll(async () => {
  await platform?.stop();
});

describe('agent limits', () => {
  it('max_turns ends a turn that keeps calling tools; max_output_tokens is sent to the model', async () => {
    const model = `${platform.prefix}-maxturns`;
    const lookup = { toolCalls: [{ name: 'lookup', input: { order_id: 'A-1001' } }] };
    platform.fakeModel.setScript(model, [lookup, lookup, lookup]);
    const agent = agentSnapshot({
      model: { id: model },
      tools: [
        {
          type: 'backend',
          name: 'lookup',
          description: 'Look up an order',
          input_schema: { type: 'object', properties: { order_id: { type: 'string' } } },
          task_queue: platform.backendQueue,
          activity: 'lookupOrder',
        },
      ],
      limits: { max_turns: 2, max_output_tokens: 123 },
    });
    const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
    await session.message('loop forever');
    const events = await session.waitForTurnEnd(1);
    expect(events.filter((event) => event.type === 'span.model_request_start')).toHaveLength(2);
    expect(lastOfType(events, 'session.error')).toMatchObject({
      error: { type: 'tool_use_limit_reached_error', retry_status: { type: 'exhausted' } },
    });
    expect(lastOfType(events, 'session.status_idle')).toMatchObject({ stop_reason: { type: 'retries_exhausted' } });
    expect(platform.fakeModel.requests(model)[0]?.body).toMatchObject({ max_tokens: 123 });
    await session.terminate();
  });

  it('token_budget stops the next turn with budget_reached', async () => {
    const model = `${platform.prefix}-budget`;
    platform.fakeModel.setScript(model, [{ text: 'expensive', usage: { inputTokens: 900, outputTokens: 200 } }]);
    const agent = agentSnapshot({ model: { id: model }, limits: { token_budget: 1_000 } });
    const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
    await session.message('first');
    await session.waitForTurnEnd(1);
    await session.message('second');
    const events = await session.waitForTurnEnd(2);
    expect(lastOfType(events, 'session.status_idle')).toMatchObject({ stop_reason: { type: 'budget_reached' } });
    expect(events.filter((event) => event.type === 'span.model_request_start')).toHaveLength(1);
    await session.terminate();
  });
});
