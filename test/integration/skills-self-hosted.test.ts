// Skills in a self-hosted environment: the official SDK's runner, unmodified, downloads the session agent's skill with
// its sessions token (`setupSkills`: versions.retrieve + versions.download) into `<workdir>/skills/<name>/`, the
// model is told that folder, and its bash call reads SKILL.md there. The sessions token reaches only the skills its
// session pins.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { WorkTokens } from '../../api/work-tokens.ts';
import { developmentVaultKey } from '../../domain/config.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { startOfficialRunner } from '../support/runner-processes.ts';

let harness: ApiHarness;
let client: Anthropic;
let runner: ManagedProcess | undefined;

beforeAll(async () => {
  harness = await startApiHarness('skills-runner', { workers: ['session', 'model'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await runner?.stop('SIGKILL');
  await harness?.stop();
});

const upload = async (name: string, body: string) =>
  client.beta.skills.create({
    files: [
      await toFile(
        Buffer.from(`---\nname: ${name}\ndescription: The ${name} skill.\n---\n${body}\n`),
        `${name}/SKILL.md`,
      ),
    ],
  });

it("the official runner downloads the session's skills into its workdir, and only those", async () => {
  const skill = await upload('runner-notes', 'The runner word is SAFFRON.');
  const other = await upload('not-pinned', 'Never downloaded.');
  const environment = await client.beta.environments.create({
    name: `skills-runner-${harness.platform.prefix}`,
    config: { type: 'self_hosted' },
  });
  const created = await harness.request(`/v1/environments/${environment.id}/keys`, {
    method: 'POST',
    body: JSON.stringify({ name: 'skills runner' }),
  });
  const { key } = (await created.json()) as { key: string };

  const model = `${harness.platform.prefix}-runner-skills`;
  harness.platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'bash', input: { command: 'cat skills/runner-notes/SKILL.md; ls skills' } }] },
    { text: 'Done.' },
  ]);
  const agent = await client.beta.agents.create({
    name: 'runner skills',
    model,
    tools: [{ type: 'agent_toolset_20260401' }],
    skills: [{ type: 'custom', skill_id: skill.id }],
  });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const workdir = mkdtempSync(join(tmpdir(), 'runner-skills-'));
  runner = await startOfficialRunner({
    baseURL: harness.baseURL,
    environmentId: environment.id,
    environmentKey: key,
    workdir,
  });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Use your skill.' }] }],
  });

  const events = await eventually(
    async () => {
      const all: BetaManagedAgentsSessionEvent[] = [];
      for await (const event of client.beta.sessions.events.list(session.id, { limit: 100 })) all.push(event);
      const ended = all.some((event) => event.type === 'session.status_idle' && event.stop_reason.type === 'end_turn');
      return ended ? all : undefined;
    },
    60_000,
    'the turn to end',
  );
  const result = events.find((event) => event.type === 'user.tool_result');
  const text =
    result?.type === 'user.tool_result'
      ? (result.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('')
      : '';
  expect(text).toContain('The runner word is SAFFRON.');
  expect(text).not.toContain('not-pinned');
  const system = JSON.stringify(harness.platform.fakeModel.requests(model)[0]?.body.system);
  expect(system).toContain('The runner-notes skill.');
  expect(system).toContain('skills/runner-notes/');
  expect(system).not.toContain('/mnt/session/skills');

  // The session's token reaches its own skill's versions, not another skill of the tenant.
  const { rows } = await harness.platform.pool.query<{ id: string }>(
    'select id from work_items where session_id = $1',
    [session.id],
  );
  const token = new WorkTokens(developmentVaultKey).tokenFor(rows[0]!.id);
  const asRunner = new Anthropic({ apiKey: token, baseURL: harness.baseURL, maxRetries: 0 });
  expect((await asRunner.beta.skills.versions.retrieve('latest', { skill_id: skill.id })).name).toBe('runner-notes');
  await expect(asRunner.beta.skills.versions.retrieve('latest', { skill_id: other.id })).rejects.toMatchObject({
    status: 403,
  });
  await expect(asRunner.beta.skills.list()).rejects.toMatchObject({ status: 403 });
});
