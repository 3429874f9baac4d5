// Sessions created as a user creates them: `client.beta.sessions.create` through the official SDK against the API,
// `inFlight` requests at a time. Used by P4 to start many idle sessions; each goes through the API's one creation
// path (api/session-creation.ts: checks, row, workflow start), nothing is written behind its back.
import Anthropic from '@anthropic-ai/sdk';
import type { ApiHarness } from '../../test/support/api-harness.ts';

export interface SessionTemplate {
  sdk: Anthropic;
  agentId: string;
  environmentId: string;
}

/** An agent (the full agent toolset, on `model`) and an environment of the harness's tenant, made through the SDK. */
export async function sessionTemplate(harness: ApiHarness, model: string): Promise<SessionTemplate> {
  const sdk = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const agent = await sdk.beta.agents.create({
    name: 'idle agent',
    model,
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const environment = await sdk.beta.environments.create({ name: `idle-${harness.platform.prefix}-${Date.now()}` });
  return { sdk, agentId: agent.id, environmentId: environment.id };
}

export interface CreationRun {
  created: string[];
  /** Requests that failed (each was tried again); a retried failure may have left a session nobody counts. */
  errors: number;
  seconds: number;
}

/**
 * Creates `count` sessions, `inFlight` at a time. A failed request is tried again (up to 5 times per session); the
 * run throws once failures pass 1% of `count` (at least 20).
 */
export async function createSessions(
  template: SessionTemplate,
  count: number,
  inFlight: number,
  onCreated?: (sessionId: string) => void,
): Promise<CreationRun> {
  const started = performance.now();
  const created: string[] = [];
  const maxErrors = Math.max(20, Math.ceil(count / 100));
  let next = 0;
  let errors = 0;
  let lastError: unknown;
  const createOne = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const session = await template.sdk.beta.sessions.create({
          agent: template.agentId,
          environment_id: template.environmentId,
        });
        return session.id;
      } catch (error) {
        lastError = error;
        if (++errors > maxErrors || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) {
        next++;
        const id = await createOne();
        created.push(id);
        onCreated?.(id);
      }
    }),
  );
  if (errors > 0) console.warn(`${errors} session creations failed and were retried; last:`, lastError);
  return { created, errors, seconds: (performance.now() - started) / 1000 };
}

/** Deletes sessions through the SDK (the workflow ends, its rows and events go), `inFlight` at a time. */
export async function deleteSessions(template: SessionTemplate, ids: string[], inFlight: number): Promise<void> {
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) await template.sdk.beta.sessions.delete(id);
    }),
  );
}

/** Sends a user message and waits until the session's turn has ended (its status back to idle after running). */
export async function runTurn(template: SessionTemplate, sessionId: string, text: string): Promise<void> {
  await template.sdk.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const types: string[] = [];
    for await (const event of template.sdk.beta.sessions.events.list(sessionId)) types.push(event.type);
    const running = types.indexOf('session.status_running');
    if (running >= 0 && types.lastIndexOf('session.status_idle') > running) return;
    if (Date.now() > deadline) throw new Error(`session ${sessionId}: no turn end in 60 s (${types.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
