// Outcomes through the official SDK: a rubric outcome whose first attempt the grader sends back (needs_revision) and
// whose second it accepts (satisfied), with the spans in order, the grader's own context at the model, the feedback
// in the agent's next request, and the outcome on retrieve.
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { verdictToolName } from '../../domain/outcomes.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('outcomes');
});
afterAll(async () => {
  await harness?.stop();
});

const listAll = async (client: Anthropic, sessionId: string) => {
  const events: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId)) events.push(event);
  return events;
};

it('grades an outcome: needs_revision on iteration 0, satisfied on iteration 1, spans in order', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `${harness.platform.prefix}-outcome`;
  const verdict = (result: string, explanation: string) => ({
    toolCalls: [{ name: verdictToolName, input: { result, explanation } }],
  });
  harness.platform.fakeModel.setScript(model, [
    { text: 'roses are red' },
    verdict('needs_revision', 'The poem has no title.'),
    { text: '# Roses\nroses are red' },
    verdict('satisfied', 'A titled poem.'),
  ]);
  const agent = await client.beta.agents.create({ name: 'poet', model });
  const environment = await client.beta.environments.create({ name: `outcomes ${agent.id}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const sent = await client.beta.sessions.events.send(session.id, {
    events: [
      {
        type: 'user.define_outcome',
        description: 'Write a short poem about roses.',
        rubric: { type: 'text', content: 'The poem has a markdown title.' },
        max_iterations: 3,
      },
    ],
  });
  const outcomeId = (sent.data?.[0] as { outcome_id?: string }).outcome_id;
  expect(outcomeId).toMatch(/^outc_/);

  const events = await eventually(
    async () => {
      const listed = await listAll(client, session.id);
      return listed.some((event) => event.type === 'session.status_idle') ? listed : undefined;
    },
    60_000,
    'session.status_idle',
  );
  const story = events
    .filter((event) => event.type !== 'span.model_request_start' && event.type !== 'span.model_request_end')
    .map((event) =>
      event.type === 'span.outcome_evaluation_end'
        ? `${event.type}:${event.iteration}:${event.result}`
        : event.type === 'span.outcome_evaluation_start'
          ? `${event.type}:${event.iteration}`
          : event.type,
    );
  expect(story).toEqual([
    'user.define_outcome',
    'session.status_running',
    'agent.message',
    'span.outcome_evaluation_start:0',
    'span.outcome_evaluation_end:0:needs_revision',
    'agent.message',
    'span.outcome_evaluation_start:1',
    'span.outcome_evaluation_end:1:satisfied',
    'session.status_idle',
  ]);
  const ends = events.filter((event) => event.type === 'span.outcome_evaluation_end');
  const starts = events.filter((event) => event.type === 'span.outcome_evaluation_start');
  expect(ends.map((event) => event.outcome_evaluation_start_id)).toEqual(starts.map((event) => event.id));
  expect(ends.every((event) => event.outcome_id === outcomeId && event.usage.input_tokens > 0)).toBe(true);
  expect(ends[0]).toMatchObject({ explanation: 'The poem has no title.' });
  const idle = events.find((event) => event.type === 'session.status_idle');
  expect(idle).toMatchObject({ stop_reason: { type: 'end_turn' } });

  // The grader's request is a context of its own: its system prompt, one user message with task, rubric and work.
  const requests = harness.platform.fakeModel.requests(model).map((request) => request.body);
  expect(requests).toHaveLength(4);
  const grader = requests[1] as { system?: unknown; messages: unknown[]; tools: Array<{ name: string }> };
  expect(JSON.stringify(grader.system)).toContain('grader');
  expect(grader.messages).toHaveLength(1);
  expect(grader.tools.map((tool) => tool.name)).toEqual([verdictToolName]);
  expect(JSON.stringify(grader.messages)).toContain('roses are red');
  // The agent's second attempt sees the grader's feedback.
  expect(JSON.stringify(requests[2])).toContain('The poem has no title.');

  const retrieved = await client.beta.sessions.retrieve(session.id);
  expect(retrieved.outcome_evaluations).toEqual([
    expect.objectContaining({
      type: 'outcome_evaluation',
      outcome_id: outcomeId,
      description: 'Write a short poem about roses.',
      result: 'satisfied',
      iteration: 1,
      explanation: 'A titled poem.',
      completed_at: expect.any(String),
    }),
  ]);
  // The grader's tokens count in the session's usage, the same live (the workflow's view) and once closed (the log's).
  const live = retrieved.usage;
  const graded = ends.reduce((sum, event) => sum + event.usage.input_tokens, 0);
  expect(graded).toBeGreaterThan(0);
  await client.beta.sessions.archive(session.id);
  const closed = await client.beta.sessions.retrieve(session.id);
  const tokens = (usage: typeof live) => ({ input: usage.input_tokens, output: usage.output_tokens });
  expect(tokens(closed.usage)).toEqual(tokens(live));
  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'outcome-evaluation');
});
