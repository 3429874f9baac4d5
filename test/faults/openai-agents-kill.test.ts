// The OpenAI Agents SDK harness survives its workers (issue 17): the SDK's Runner runs inside the session workflow and
// its model calls are activities, so SIGKILL the session worker while the Runner's tool call runs in the sandbox, and
// the model worker while the Runner's next model request streams; started again, the turn finishes — the tool ran
// once, the retried model call is announced, every event is in the log once, and the last request still carries the
// earlier turn (the conversation continues with its context).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';

let platform: TestPlatform;
const processes = new Map<'session' | 'model', ManagedProcess>();
beforeAll(async () => {
  // Sandbox worker in-process; session and model workers as processes we can kill.
  platform = await startTestPlatform({ label: 'oa-kill', workers: ['sandbox'] });
});
afterAll(async () => {
  await Promise.all([...processes.values()].map((child) => child.stop('SIGKILL')));
  await platform?.stop();
});

const start = async (family: 'session' | 'model') => {
  processes.set(
    family,
    await startWorkerProcess(family, { prefix: platform.prefix, fakeModelUrl: platform.fakeModel.url }),
  );
};
const kill = async (family: 'session' | 'model') => {
  await processes.get(family)!.stop('SIGKILL');
  await start(family);
};

const types = (events: SessionEvent[]) => events.map((event) => event.type);

it('continues an openai_agents session after SIGKILLs of its session and model workers mid-turn', async () => {
  const model = `${platform.prefix}-oa-kill`;
  const hold = `${model}-hold`;
  platform.fakeModel.setScript(model, [
    { text: 'The first answer is 41.' },
    { toolCalls: [{ name: 'bash', input: { command: 'sleep 2; echo tick >> ticks.txt; wc -l < ticks.txt' } }] },
    { text: 'Counting the ticks for a long time', chunkSize: 4, holdAfterFirstChunk: hold },
    { text: 'One tick; the second answer is 42.' },
  ]);
  await start('session');
  await start('model');
  const agent = agentSnapshot({
    model: { id: model, provider: 'openai-chat' },
    tools: [{ type: 'agent_toolset_20260401' }],
    harness: { type: 'openai_agents' },
  });
  const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();

  await session.message('What is the first answer?');
  await session.waitForTurnEnd(1, 90_000);

  await session.message('Count the ticks.');
  // The session worker dies while the Runner's bash call runs in the sandbox (the tool activity is in flight).
  await session.waitFor('the tool call', (events) => events.some((event) => event.type === 'agent.tool_use'));
  await kill('session');
  // The model worker dies while the Runner's next model request streams.
  for (let i = 0; i < 1_200 && !platform.fakeModel.held().includes(hold); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(platform.fakeModel.held()).toContain(hold);
  await kill('model');
  const events = await session.waitForTurnEnd(2, 120_000);

  const secondTurn = events.slice(events.findIndex((event) => event.type === 'session.status_idle') + 1);
  expect(types(secondTurn)).toEqual([
    'user.message',
    'session.status_running',
    'span.model_request_start',
    'span.model_request_end',
    'agent.tool_use',
    'agent.tool_result',
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
  expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
  // The tool ran once: its own output counts one line, and the Runner saw exactly one result.
  const results = events.filter((event) => event.type === 'agent.tool_result');
  expect(results).toHaveLength(1);
  expect(results[0]).toMatchObject({
    is_error: false,
    content: [{ type: 'text', text: expect.stringMatching(/^1\b/) }],
  });
  const messages = events.flatMap((event) =>
    event.type === 'agent.message' ? [event.content.map((block) => block.text).join('')] : [],
  );
  expect(messages).toEqual(['The first answer is 41.', 'One tick; the second answer is 42.']);

  // The retried request carried the whole conversation: the first turn, the tool's result, each once.
  const last = JSON.stringify(platform.fakeModel.requests(model).at(-1)!.body.messages);
  expect(last).toContain('What is the first answer?');
  expect(last).toContain('The first answer is 41.');
  expect(last.split('Count the ticks.')).toHaveLength(2);
  await session.terminate();
}, 300_000);
