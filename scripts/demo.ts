// The demo session the dev stack runs: through the HTTP API with the official Anthropic SDK (only baseURL changed),
// an agent with the built-in toolset runs a command in its Docker sandbox and answers. Without a model API key the
// fake model server plays the model ("run: <command>" makes it call bash).
import Anthropic from '@anthropic-ai/sdk';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTenantWithKey } from '../db/repositories/tenants.ts';

export interface DemoOptions {
  apiUrl: string;
  databaseUrl: string;
  uiUrl: string;
  log: (message: string) => void;
}

/** A demo tenant with a fresh API key (keys are stored hashed; this one is printed once). */
async function demoApiKey(databaseUrl: string): Promise<string> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    return (await createTenantWithKey(pool, 'demo', 'dev stack demo')).apiKey;
  } finally {
    await pool.end();
  }
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const { log } = options;
  const apiKey = await demoApiKey(options.databaseUrl);
  const client = new Anthropic({ apiKey, baseURL: options.apiUrl, maxRetries: 2 });
  log('demo: creating an environment, an agent and a session through the API');
  const suffix = randomBytes(3).toString('hex');
  const environment = await client.beta.environments.create({
    name: `demo-${suffix}`,
    config: { type: 'cloud', networking: { type: 'limited' } }, // no network in the sandbox
  });
  const agent = await client.beta.agents.create({
    name: 'demo agent',
    model: 'claude-sonnet-5-5',
    system: 'You are a helpful coding agent working in /workspace.',
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const session = await client.beta.sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    title: 'dev stack demo',
  });
  log(
    `demo: session ${session.id} — in Temporal UI: ${options.uiUrl}/namespaces/default/workflows/session-${session.id}`,
  );

  const stream = await client.beta.sessions.events.stream(session.id);
  await client.beta.sessions.events.send(session.id, {
    events: [
      {
        type: 'user.message',
        content: [{ type: 'text', text: 'run: echo "hello from $(whoami) in $(pwd)" | tee /workspace/hello.txt' }],
      },
    ],
  });
  for await (const event of stream) {
    log(`demo: ${describe(event)}`);
    if (event.type === 'session.status_idle' && event.stop_reason.type !== 'requires_action') break;
  }
  stream.controller.abort();
  log(`demo: done; API key for this tenant (shown once): ${apiKey}`);
}

function describe(event: Anthropic.Beta.Sessions.BetaManagedAgentsStreamSessionEvents): string {
  switch (event.type) {
    case 'agent.message':
      return `agent.message: ${event.content.map((block) => ('text' in block ? block.text : '')).join('')}`;
    case 'agent.tool_use':
      return `agent.tool_use: ${event.name} ${JSON.stringify(event.input)}`;
    case 'agent.tool_result':
      return `agent.tool_result: ${JSON.stringify(event.content ?? []).slice(0, 200)}`;
    case 'session.status_idle':
      return `session.status_idle (${event.stop_reason.type})`;
    default:
      return event.type;
  }
}
