// Context compaction through the official SDK: with a small context window (4,000 tokens, compaction past half of it),
// a 40-turn session's model requests stay under a fixed size — measured in bytes at the fake model — while the event
// log keeps every event, the summary survives continue-as-new (every 10 turns here) and each compaction is announced
// (agent.thread_context_compacted). A single message larger than the window cannot be made room for:
// compaction_limit_reached_error, and the turn ends with retries_exhausted.
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { isSummariserRequest } from '../fake-model/script.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('compaction', {
    sessionSettings: { contextWindowTokens: 4_000, compactionThreshold: 0.5, continueAsNewEveryTurns: 10 },
  });
});
afterAll(async () => {
  await harness?.stop();
});

const listAll = async (client: Anthropic, sessionId: string) => {
  const events: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId, { limit: 1000 })) events.push(event);
  return events;
};

const idleCount = (events: BetaManagedAgentsSessionEvent[]) =>
  events.filter((event) => event.type === 'session.status_idle').length;

async function setUp(client: Anthropic, name: string) {
  const model = `${harness.platform.prefix}-${name}`;
  let summaries = 0;
  harness.platform.fakeModel.setResponder(model, (body) =>
    isSummariserRequest(body)
      ? { text: `SUMMARY-${++summaries}: the user sent numbered paragraphs; the agent acknowledged each.` }
      : { text: `Noted. ${'ok '.repeat(100)}` },
  );
  const agent = await client.beta.agents.create({ name, model });
  const environment = await client.beta.environments.create({ name: `${name} ${agent.id}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  return { model, session };
}

async function say(client: Anthropic, sessionId: string, text: string, turn: number) {
  await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  return eventually(
    async () => {
      const events = await listAll(client, sessionId);
      return idleCount(events) >= turn ? events : undefined;
    },
    60_000,
    `idle after turn ${turn}`,
  );
}

it(
  'keeps model requests under a fixed size over 40 turns while the log keeps every event',
  { timeout: 300_000 },
  async () => {
    const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
    const { model, session } = await setUp(client, 'compaction');
    const turns = 40;
    let events: BetaManagedAgentsSessionEvent[] = [];
    for (let turn = 1; turn <= turns; turn++) {
      events = await say(client, session.id, `Paragraph ${turn}: ${'lorem ipsum dolor sit amet '.repeat(40)}`, turn);
    }

    const requests = harness.platform.fakeModel.requests(model);
    const sizes = requests.map((request) => Buffer.byteLength(JSON.stringify(request.body)));
    const agentRequests = requests.filter((request) => !isSummariserRequest(request.body));
    const contentBytes = turns * 1_100 + turns * 310;
    console.log(
      `compaction: ${requests.length} model requests (${requests.length - agentRequests.length} summaries), ` +
        `largest ${Math.max(...sizes)} bytes, content sent ${contentBytes} bytes`,
    );
    expect(agentRequests).toHaveLength(turns);
    // 4,000 tokens × 4 characters: no request carries more than the window, though the conversation is 3.5× that.
    expect(Math.max(...sizes)).toBeLessThan(16_000);
    expect(contentBytes).toBeGreaterThan(3 * 16_000);
    const last = JSON.stringify(agentRequests.at(-1)?.body);
    expect(last).toContain('SUMMARY-');
    expect(last).not.toContain('Paragraph 1:');
    expect(last).toContain(`Paragraph ${turns}:`);

    // The log keeps everything: every message, every answer, each compaction announced.
    const types = events.map((event) => event.type);
    expect(types.filter((type) => type === 'user.message')).toHaveLength(turns);
    expect(types.filter((type) => type === 'agent.message')).toHaveLength(turns);
    const compactions = types.filter((type) => type === 'agent.thread_context_compacted').length;
    expect(compactions).toBe(requests.length - agentRequests.length);
    expect(compactions).toBeGreaterThan(3);
    expect(events.filter((event) => event.type === 'session.error')).toEqual([]);

    // Continued-as-new at least three times, and the summary carried over (requests after each new run stayed small).
    const runs: string[] = [];
    for await (const run of harness.platform.client.workflow.list({
      query: `WorkflowId = '${sessionWorkflowId(session.id)}'`,
    })) {
      runs.push(run.runId);
    }
    expect(runs.length).toBeGreaterThanOrEqual(4);
    // The summariser's tokens count in the session's usage the same live (the workflow's view) and once closed (read
    // back from the log, where each summary is a model request of its own).
    const summaries = events.filter(
      (event) =>
        event.type === 'span.model_request_start' && (event as { summary?: string }).summary === 'context compaction',
    );
    expect(summaries).toHaveLength(compactions);
    const live = (await client.beta.sessions.retrieve(session.id)).usage;
    await client.beta.sessions.archive(session.id);
    const closed = (await client.beta.sessions.retrieve(session.id)).usage;
    const tokens = (usage: typeof live) => ({ input: usage.input_tokens, output: usage.output_tokens });
    expect(tokens(closed)).toEqual(tokens(live));
    await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'context-compaction-usage');
  },
);

it('reports compaction_limit_reached_error when one message is larger than the window', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const { session } = await setUp(client, 'compaction-limit');
  await say(client, session.id, 'A short first message.', 1);
  const events = await say(client, session.id, 'x'.repeat(40_000), 2);
  const error = events.find((event) => event.type === 'session.error');
  expect(error).toMatchObject({
    error: { type: 'compaction_limit_reached_error', retry_status: { type: 'exhausted' } },
  });
  expect(events.filter((event) => event.type === 'session.status_idle').at(-1)).toMatchObject({
    stop_reason: { type: 'retries_exhausted' },
  });
  // The session stays usable.
  const after = await say(client, session.id, 'Still there?', 3);
  expect(after.filter((event) => event.type === 'agent.message').length).toBeGreaterThanOrEqual(2);
  await client.beta.sessions.archive(session.id);
});
