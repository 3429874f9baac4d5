// The session budget through the official SDK: a list-cost ceiling pinned at creation with the model's list price;
// each turn's end reports session.usage with the tracked list cost; once spent, the next turn stops before any model
// request with budget_reached. A model without a list price cannot be budgeted (400 model_not_budgetable).
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
beforeAll(async () => {
  // One cent a token, in and out (USD 10,000 per million tokens).
  const prices = { 'budgeted-model-': { input: 10_000, output: 10_000 } };
  harness = await startApiHarness('budget', { config: { AGENTS_MODEL_PRICES: JSON.stringify(prices) } });
});
afterAll(async () => {
  await harness?.stop();
});

const budget = { type: 'limit' as const, max_list_cost: { amount: '500', currency: 'USD' as const } };

async function turn(client: Anthropic, sessionId: string, text: string, turns: number) {
  await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  return eventually(
    async () => {
      const events: BetaManagedAgentsSessionEvent[] = [];
      for await (const event of client.beta.sessions.events.list(sessionId)) events.push(event);
      return events.filter((event) => event.type === 'session.status_idle').length >= turns ? events : undefined;
    },
    30_000,
    `turn ${turns}`,
  );
}

it('stops with budget_reached once the tracked list cost reaches the budget', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `budgeted-model-${harness.platform.prefix}`;
  const usage = { inputTokens: 300, outputTokens: 100 };
  harness.platform.fakeModel.setScript(model, [
    { text: 'one', usage },
    { text: 'two', usage },
  ]);
  const agent = await client.beta.agents.create({ name: 'budgeted', model });
  const environment = await client.beta.environments.create({ name: `budget ${agent.id}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id, budget });
  expect(session.budget).toEqual(budget);

  await turn(client, session.id, 'first', 1);
  await turn(client, session.id, 'second', 2);
  const events = await turn(client, session.id, 'third', 3);

  const idles = events.filter((event) => event.type === 'session.status_idle');
  expect(idles.map((event) => event.stop_reason.type)).toEqual(['end_turn', 'end_turn', 'budget_reached']);
  const reports = events.filter((event) => event.type === 'session.usage');
  expect(reports.map((event) => event.usage.list_cost?.amount)).toEqual(['400', '800', '800']);
  expect(reports.every((event) => event.budget?.max_list_cost.amount === '500')).toBe(true);
  expect(harness.platform.fakeModel.requests(model)).toHaveLength(2);
  expect((await client.beta.sessions.retrieve(session.id)).budget).toEqual(budget);
  await client.beta.sessions.archive(session.id);
  expect((await client.beta.sessions.retrieve(session.id)).budget).toEqual(budget);
});

it('refuses a budget for a model without a list price', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const agent = await client.beta.agents.create({ name: 'unpriced', model: `unpriced-${harness.platform.prefix}` });
  const environment = await client.beta.environments.create({ name: `unpriced ${agent.id}` });
  await expect(
    client.beta.sessions.create({ agent: agent.id, environment_id: environment.id, budget }),
  ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('model_not_budgetable') });
});
