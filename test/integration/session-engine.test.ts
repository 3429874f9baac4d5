// The agent loop end to end on the real Temporal dev server, PostgreSQL and Docker: one scripted session using
// sandbox, custom and backend tools, an approval allowed and one denied, a sub-agent, an interrupt mid-stream, and a
// normal answer afterwards — exactly the expected event sequence, over each model protocol.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObjectSchema } from '../../domain/agent.ts';
import type { ModelProvider } from '../../domain/model.ts';
import type { SessionEvent } from '../../domain/events.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { recordHistory } from '../support/histories.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, lastOfType, WorkflowSession } from '../support/workflow-session.ts';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'engine' });
});
afterAll(async () => {
  await platform?.stop();
});

const orderSchema: JsonObjectSchema = {
  type: 'object',
  properties: { order_id: { type: 'string' } },
  required: ['order_id'],
};

describe.each<ModelProvider>(['anthropic', 'openai-chat', 'openai-responses'])('session engine over %s', (provider) => {
  it('runs a scripted multi-turn session with every kind of tool and produces exactly the expected events', async () => {
    const model = `${platform.prefix}-${provider}-main`;
    const childModel = `${platform.prefix}-${provider}-child`;
    const child = agentSnapshot({ name: 'researcher', model: { id: childModel, provider }, tools: [] });
    const agent = agentSnapshot({
      model: { id: model, provider },
      tools: [
        {
          type: 'agent_toolset_20260401',
          configs: [
            { name: 'write', permission_policy: { type: 'always_ask' } },
            { name: 'glob', enabled: false },
          ],
        },
        {
          type: 'custom',
          name: 'deploy',
          description: 'Deploy the app',
          input_schema: { type: 'object', properties: {} },
        },
        {
          type: 'backend',
          name: 'lookup_order',
          description: 'Look up an order',
          input_schema: orderSchema,
          task_queue: platform.backendQueue,
          activity: 'lookupOrder',
        },
        {
          type: 'backend',
          name: 'refund_order',
          description: 'Refund an order',
          input_schema: orderSchema,
          task_queue: platform.backendQueue,
          activity: 'refundOrder',
          permission_policy: { type: 'always_ask' },
        },
        { type: 'sub_agent', name: 'research', description: 'Ask the researcher', agent: child },
      ],
    });
    platform.fakeModel.setScript(childModel, [{ text: 'The answer is 42.' }]);
    platform.fakeModel.setScript(model, [
      {
        text: 'Let me look.',
        toolCalls: [
          { name: 'bash', input: { command: 'echo hello > note.txt && cat note.txt' } },
          { name: 'lookup_order', input: { order_id: 'A-1001' } },
        ],
      },
      { toolCalls: [{ name: 'deploy', input: {} }] },
      {
        toolCalls: [
          { name: 'refund_order', input: { order_id: 'A-1001' } },
          { name: 'write', input: { path: 'x.txt', content: 'nope' } },
        ],
      },
      { toolCalls: [{ name: 'research', input: { prompt: 'What is the answer?' } }] },
      { text: 'All done.' },
      // turn 2: a long answer held open after its first chunk, interrupted
      {
        text: 'This is a very long answer that will be interrupted',
        chunkSize: 5,
        holdAfterFirstChunk: `${model}-hold`,
      },
      // turn 3: the session answers normally after the interrupt
      { text: 'Still here.' },
    ]);

    const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
    await session.message('Please do the work.');

    // The custom tool: answer it.
    let events = await session.waitForRequiresAction(1);
    const customUse = lastOfType(events, 'agent.custom_tool_use')!;
    expect(lastOfType(events, 'session.status_idle')).toMatchObject({
      stop_reason: { type: 'requires_action', event_ids: [customUse.id] },
    });
    expect((await session.state()).pendingActions).toEqual([
      { eventId: customUse.id, kind: 'custom_tool_result', name: 'deploy' },
    ]);
    await session.send({
      type: 'user.custom_tool_result',
      custom_tool_use_id: customUse.id,
      content: [{ type: 'text', text: 'deployed v2' }],
    });

    // Two confirmations at once: allow the refund, deny the write.
    events = await session.waitForRequiresAction(2);
    const asks = events.filter((event) => event.type === 'agent.tool_use' && event.evaluated_permission === 'ask');
    const refund = asks.find((event) => event.type === 'agent.tool_use' && event.name === 'refund_order')!;
    const write = asks.find((event) => event.type === 'agent.tool_use' && event.name === 'write')!;
    await session.send({ type: 'user.tool_confirmation', tool_use_id: refund.id, result: 'allow' });
    // Resolving one of two re-announces the other.
    events = await session.waitForRequiresAction(3);
    expect(lastOfType(events, 'session.status_idle')).toMatchObject({
      stop_reason: { type: 'requires_action', event_ids: [write.id] },
    });
    await session.send({
      type: 'user.tool_confirmation',
      tool_use_id: write.id,
      result: 'deny',
      deny_message: 'Not now.',
    });
    await session.waitForTurnEnd(1);

    // Turn 2: interrupt while the answer streams.
    await session.message('Tell me a long story.');
    await waitForHold(`${model}-hold`);
    await session.send({ type: 'user.interrupt' });
    await session.waitForTurnEnd(2);
    // The cancellation reaches the model activity (in a heartbeat's answer): it aborts the held stream itself.
    await waitForHold(`${model}-hold`, false);

    // Turn 3: the session answers normally.
    await session.message('Are you there?');
    events = await session.waitForTurnEnd(3);

    expect(describeAll(events)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end ok',
      'agent.message Let me look.',
      'agent.tool_use bash allow',
      'agent.tool_use lookup_order allow',
      'agent.tool_result bash ok: hello',
      'agent.tool_result lookup_order ok: Order A-1001: shipped, total 42.00 EUR.',
      'span.model_request_start',
      'span.model_request_end ok',
      'agent.custom_tool_use deploy',
      'session.status_idle requires_action',
      'user.custom_tool_result',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end ok',
      'agent.tool_use refund_order ask',
      'agent.tool_use write ask',
      'session.status_idle requires_action',
      'user.tool_confirmation allow',
      'session.status_idle requires_action',
      'user.tool_confirmation deny',
      'session.status_running',
      'agent.tool_result refund_order ok: Refund for A-1001 issued',
      'agent.tool_result write error: Not now.',
      'span.model_request_start',
      'span.model_request_end ok',
      'agent.tool_use research allow',
      'agent.tool_result research ok: The answer is 42.',
      'span.model_request_start',
      'span.model_request_end ok',
      'agent.message All done.',
      'session.status_idle end_turn',
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end error',
      'user.interrupt',
      'session.status_idle end_turn',
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end ok',
      'agent.message Still here.',
      'session.status_idle end_turn',
    ]);

    // Every event has an id, a processed_at and a unique id.
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    expect(events.every((event) => typeof event.processed_at === 'string')).toBe(true);

    // The model saw the tool results (paired by id) and the deny message; the sub-agent ran as its own session.
    const lastRequest = platform.fakeModel.requests(model).at(-1)!;
    expect(JSON.stringify(lastRequest.body)).toContain('Not now.');
    expect(JSON.stringify(lastRequest.body)).toContain('deployed v2');
    const state = await session.state();
    expect(state).toMatchObject({ status: 'idle', stopReason: { type: 'end_turn' }, pendingActions: [] });
    expect(state.stats.turns).toBe(3);
    expect(state.usage.outputTokens).toBeGreaterThan(0);

    await session.terminate('deleted');
    const final = await session.events();
    expect(final.slice(-2).map((event) => event.type)).toEqual(['session.status_terminated', 'session.deleted']);

    // The sub-agent ran as a child session workflow of its own.
    const children = [];
    for await (const run of platform.client.workflow.list({
      query: `ParentWorkflowId = '${sessionWorkflowId(session.sessionId)}'`,
    })) {
      children.push(run);
    }
    expect(children).toHaveLength(1);
    expect(children[0]!.status.name).toBe('COMPLETED');
    await recordHistory(platform.client, sessionWorkflowId(session.sessionId), `engine-${provider}`);
    await recordHistory(platform.client, children[0]!.workflowId, `sub-agent-${provider}`);
  });
});

/** Waits until the fake model holds the stream `key` (or, `held` false, until no stream is held under it). */
async function waitForHold(key: string, held = true): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (platform.fakeModel.held().includes(key) === held) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(held ? `the model stream ${key} was never held` : `the model stream ${key} was never aborted`);
}

/** A compact, order-preserving description of an event for sequence assertions. */
function describeEvent(event: SessionEvent): string {
  const text = (content: { type: string; text?: string }[] | undefined) =>
    (content ?? []).map((block) => block.text ?? '').join('');
  switch (event.type) {
    case 'agent.message':
      return `agent.message ${text(event.content)}`;
    case 'agent.tool_use':
      return `agent.tool_use ${event.name} ${event.evaluated_permission}`;
    case 'agent.custom_tool_use':
      return `agent.custom_tool_use ${event.name}`;
    case 'agent.tool_result': {
      const result = text(event.content).trim();
      const short = result.replace(/ \(reference .*\)\.$/, '');
      return `agent.tool_result ${toolNames.get(event.tool_use_id) ?? '?'} ${event.is_error ? 'error' : 'ok'}: ${short}`;
    }
    case 'span.model_request_end':
      return `span.model_request_end ${event.is_error ? 'error' : 'ok'}`;
    case 'session.status_idle':
      return `session.status_idle ${event.stop_reason.type}`;
    case 'user.tool_confirmation':
      return `user.tool_confirmation ${event.result}`;
    default:
      return event.type;
  }
}
const toolNames = new Map<string, string>();

/** Describes every event; results of tools that ran concurrently are sorted, since either may finish first. */
function describeAll(events: SessionEvent[]): string[] {
  for (const event of events) {
    if (event.type === 'agent.tool_use' || event.type === 'agent.custom_tool_use') toolNames.set(event.id, event.name);
  }
  const described = events.map(describeEvent);
  const sorted: string[] = [];
  for (let i = 0; i < described.length;) {
    let j = i;
    while (j < described.length && described[j]!.startsWith('agent.tool_result')) j++;
    if (j > i) {
      sorted.push(...described.slice(i, j).sort());
      i = j;
    } else {
      sorted.push(described[i++]!);
    }
  }
  return sorted;
}
