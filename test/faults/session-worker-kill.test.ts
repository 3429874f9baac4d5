// Durability: SIGKILL the session worker mid-tool and the model worker mid-stream, start them again, and the session
// finishes with no event lost or duplicated and the tool's side effect applied once.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';

let platform: TestPlatform;
const processes: ManagedProcess[] = [];
beforeAll(async () => {
  // Sandbox and backend workers in-process; session and model workers as processes we can kill.
  platform = await startTestPlatform({ label: 'kill', workers: ['sandbox', 'backend'] });
});
// Each test kills the workers it started, so a worker of an earlier test cannot take over a later test's task.
afterEach(async () => {
  await Promise.all(processes.splice(0).map((child) => child.stop('SIGKILL')));
});
afterAll(async () => {
  await platform?.stop();
});

const start = async (family: 'session' | 'model') => {
  const child = await startWorkerProcess(family, { prefix: platform.prefix, fakeModelUrl: platform.fakeModel.url });
  processes.push(child);
  return child;
};

const types = (events: SessionEvent[]) => events.map((event) => event.type);

describe('worker crashes', () => {
  it('SIGKILL of the session worker during a tool call: the session completes, nothing lost or repeated', async () => {
    const model = `${platform.prefix}-session-kill`;
    platform.fakeModel.setScript(model, [
      { toolCalls: [{ name: 'bash', input: { command: 'sleep 2; echo tick >> ticks.txt; wc -l < ticks.txt' } }] },
      { text: 'done' },
    ]);
    const sessionWorker = await start('session');
    await start('model');
    const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
    const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
    await session.message('count');
    await session.waitFor('the tool call', (events) => events.some((event) => event.type === 'agent.tool_use'));
    await sessionWorker.stop('SIGKILL');
    await start('session');
    const events = await session.waitForTurnEnd(1, 90_000);
    expect(types(events)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end',
      'agent.tool_use',
      'agent.tool_result',
      'span.model_request_start',
      'span.model_request_end',
      'agent.message',
      'session.status_idle',
    ]);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    const result = events.find((event) => event.type === 'agent.tool_result');
    expect(result).toMatchObject({ is_error: false, content: [{ type: 'text', text: expect.stringMatching(/^1\b/) }] });
    await session.terminate();
  });

  it('SIGKILL of the model worker mid-stream: the call is retried and announced, nothing duplicated', async () => {
    const model = `${platform.prefix}-model-kill`;
    platform.fakeModel.setScript(model, [
      { text: 'a long answer that never finishes', chunkSize: 4, holdAfterFirstChunk: `${model}-hold` },
      { text: 'second try' },
    ]);
    await start('session');
    const modelWorker = await start('model');
    const session = await new WorkflowSession(
      platform,
      agentSnapshot({ model: { id: model } }),
      fastSettings(platform.prefix),
    ).start();
    await session.message('talk');
    // Killed the instant the request has reached the provider and its first chunk is out: the worker had no time to
    // tell the server anything more, and the call must still count as run (announced, not retried silently).
    await platform.fakeModel.whenHeld(`${model}-hold`);
    // What the announcement rests on: a request that reached the provider has its attempt's heartbeat stored already.
    const { raw } = await session.handle.describe();
    expect(raw.pendingActivities?.[0]?.heartbeatDetails?.payloads).toHaveLength(1);
    await modelWorker.stop('SIGKILL');
    await start('model');
    const events = await session.waitForTurnEnd(1, 90_000);
    expect(types(events)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end',
      'session.error',
      'session.status_rescheduled',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end',
      'agent.message',
      'session.status_idle',
    ]);
    expect(events.find((event) => event.type === 'agent.message')).toMatchObject({ content: [{ text: 'second try' }] });
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    await session.terminate();
  });
});
