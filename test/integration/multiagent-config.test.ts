// The agent's multiagent configuration through the official SDK: the retired `sub_agent` tool is refused (on create,
// on update, and when a session would pin an agent stored with one before it was retired).
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAgent } from '../../db/repositories/agents.ts';
import { startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
let client: Anthropic;
beforeAll(async () => {
  harness = await startApiHarness('multiagent-config', { workers: ['session', 'model'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.stop();
});

const model = (name: string) => `${harness.platform.prefix}-${name}`;

it('refuses the retired sub_agent tool with a 400 that names multiagent', async () => {
  const child = await client.beta.agents.create({ name: 'child', model: model('child') });
  const subAgentTool = { type: 'sub_agent', name: 'research', description: 'Research', agent: child.id };
  const created = client.beta.agents.create({ name: 'old', model: model('old'), tools: [subAgentTool] as never });
  await expect(created).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/multiagent/) });

  const agent = await client.beta.agents.create({ name: 'new', model: model('new') });
  const updated = client.beta.agents.update(agent.id, { version: 1, tools: [subAgentTool] as never });
  await expect(updated).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/sub_agent.*retired/) });

  // An agent stored with one before the tool was retired cannot start new sessions.
  const legacy = await createAgent(harness.platform.pool, harness.tenant.tenantId, {
    name: 'legacy',
    description: null,
    system: null,
    model: { id: model('legacy') },
    tools: [{ ...subAgentTool, type: 'sub_agent', agent: { type: 'agent', id: child.id } }],
    mcp_servers: [],
    skills: [],
    metadata: {},
  });
  const environment = await client.beta.environments.create({ name: `env-${harness.platform.prefix}` });
  const session = client.beta.sessions.create({ agent: legacy.id, environment_id: environment.id });
  await expect(session).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/multiagent/) });
});
