// Skills through the official SDK: a custom skill uploaded as a folder's files (and as a zip), its versions immutable
// and downloadable, pinned on an agent (latest resolved at creation), bad uploads and references refused with 400s in
// the one error shape, another tenant shut out, deletion as the API has it (versions first). A session with the skill
// gets its name and description in the system prompt the fake model receives and reads SKILL.md in the sandbox.
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { recordHistory } from '../support/histories.ts';
import { startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { listEvents, post, waitForIdle } from '../fixtures/trace/scenario.ts';

let harness: ApiHarness;
let client: Anthropic;
beforeAll(async () => {
  harness = await startApiHarness('skills', { workers: ['session', 'model', 'sandbox'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.stop();
});

const skillMd = (description: string, name = 'release-notes') =>
  `---\nname: ${name}\ndescription: ${description}\n---\n\n# Release notes\n\nRun scripts/collect.sh, then group the ` +
  'changes under Added / Fixed. The magic word is PAPRIKA.\n';
const v1Description = 'Writes release notes from a git log, grouped as the team likes them.';
const v2Description = 'Writes release notes (v2, also lists contributors).';

const files = async (description: string, name = 'release-notes', folder = 'release-notes') => [
  await toFile(Buffer.from(skillMd(description, name)), `${folder}/SKILL.md`, { type: 'text/markdown' }),
  await toFile(Buffer.from('#!/bin/sh\ngit log --oneline\n'), `${folder}/scripts/collect.sh`),
];

async function statusOf(promise: Promise<unknown>): Promise<{ status: number; type: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Anthropic.APIError) {
      const body = error.error as { type: string; error: { type: string; message: string } };
      expect(body.type).toBe('error');
      return { status: error.status ?? 0, type: body.error.type, message: body.error.message };
    }
    throw error;
  }
  throw new Error('the request succeeded');
}

describe('skills', () => {
  it('uploads a skill, pins it on an agent, and the session sees its description and reads its files', async () => {
    const skill = await client.beta.skills.create({ files: await files(v1Description) });
    expect(skill).toMatchObject({ type: 'skill', display_name: 'release-notes', source: { type: 'custom' } });
    const v1 = await client.beta.skills.versions.retrieve(skill.latest_version_id, { skill_id: skill.id });
    expect(v1).toMatchObject({
      type: 'skill_version',
      skill_id: skill.id,
      name: 'release-notes',
      description: v1Description,
    });

    // A second version: the first stays as it was (versions are immutable), `latest` moves.
    const v2 = await client.beta.skills.versions.create(skill.id, { files: await files(v2Description) });
    expect(v2.id).not.toBe(v1.id);
    expect((await client.beta.skills.retrieve(skill.id)).latest_version_id).toBe(v2.id);
    expect(await client.beta.skills.versions.retrieve('latest', { skill_id: skill.id })).toEqual(v2);
    expect(await client.beta.skills.versions.retrieve(v1.id, { skill_id: skill.id })).toEqual(v1);
    const versions = [];
    for await (const version of client.beta.skills.versions.list(skill.id)) versions.push(version.id);
    expect(versions).toEqual([v2.id, v1.id]);
    await expect(
      harness.platform.pool.query(`update skill_versions set description = 'changed' where skill_id = $1`, [skill.id]),
    ).rejects.toThrow(/immutable/);

    // The download is a zip of the version's files in a folder named after the skill.
    const archive = unzipSync(
      new Uint8Array(await (await client.beta.skills.versions.download(v1.id, { skill_id: skill.id })).arrayBuffer()),
    );
    expect(Object.keys(archive).sort()).toEqual(['release-notes/SKILL.md', 'release-notes/scripts/collect.sh']);
    expect(Buffer.from(archive['release-notes/SKILL.md']!).toString()).toBe(skillMd(v1Description));

    // The agent pins v1 explicitly; `latest` (or no version) is resolved to a concrete version at creation.
    const model = `${harness.platform.prefix}-skills`;
    const agent = await client.beta.agents.create({
      name: 'skilled',
      model,
      tools: [{ type: 'agent_toolset_20260401' }],
      skills: [{ type: 'custom', skill_id: skill.id, version: v1.id }],
    });
    expect(agent.skills).toEqual([{ type: 'custom', skill_id: skill.id, version: v1.id }]);
    const latest = await client.beta.agents.create({
      name: 'latest',
      model,
      skills: [{ type: 'custom', skill_id: skill.id }],
    });
    expect(latest.skills).toEqual([{ type: 'custom', skill_id: skill.id, version: v2.id }]);

    const path = '/mnt/session/skills/release-notes';
    harness.platform.fakeModel.setScript(model, [
      { toolCalls: [{ name: 'bash', input: { command: `cat ${path}/SKILL.md && ls ${path}/scripts` } }] },
      { toolCalls: [{ name: 'bash', input: { command: `echo x > ${path}/SKILL.md || echo refused` } }] },
      { text: 'Done.' },
    ]);
    const environment = await post(harness, '/v1/environments', { name: `env-${harness.platform.prefix}-skills` });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    expect(session.agent.skills).toEqual([
      expect.objectContaining({ type: 'custom', skill_id: skill.id, version: v1.id }),
    ]);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Write the release notes.' }] }],
    });
    await waitForIdle(harness, session.id, 'end_turn');

    const [first] = harness.platform.fakeModel.requests(model);
    const system = JSON.stringify(first?.body.system);
    expect(system).toContain('release-notes');
    expect(system).toContain(v1Description);
    expect(system).not.toContain('v2, also lists contributors');
    expect(system).toContain(path);

    const results = (await listEvents(harness, session.id)).filter((event) => event.type === 'agent.tool_result');
    const text = (index: number) => JSON.stringify((results[index] as { content?: unknown }).content ?? '');
    expect(text(0)).toContain('The magic word is PAPRIKA.');
    expect(text(0)).toContain('collect.sh');
    expect(text(1)).toMatch(/Permission denied|refused/);
    await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'skills-session');
  });

  it('accepts a zip and refuses bad uploads and references with 400s', async () => {
    const zip = zipSync({
      'csv-tools/SKILL.md': Buffer.from(skillMd('Cleans CSV files.', 'csv-tools')),
      'csv-tools/clean.py': Buffer.from('print("clean")\n'),
    });
    const zipped = await client.beta.skills.create({
      files: [await toFile(Buffer.from(zip), 'csv-tools.zip', { type: 'application/zip' })],
      display_name: 'CSV tools',
    });
    expect(zipped.display_name).toBe('CSV tools');
    const version = await client.beta.skills.versions.retrieve('latest', { skill_id: zipped.id });
    expect(version).toMatchObject({ name: 'csv-tools', description: 'Cleans CSV files.' });

    const bad = async (upload: Promise<unknown>, message: RegExp) => {
      const answer = await statusOf(upload);
      expect(answer).toMatchObject({ status: 400, type: 'invalid_request_error' });
      expect(answer.message).toMatch(message);
    };
    await bad(client.beta.skills.create({ files: [await toFile(Buffer.from('echo'), 'x/run.sh')] }), /no SKILL\.md/);
    await bad(
      client.beta.skills.create({ files: [await toFile(Buffer.from('# no front matter'), 'x/SKILL.md')] }),
      /front matter/,
    );
    await bad(
      client.beta.skills.create({
        files: [await toFile(Buffer.from('---\nname: ok-name\n---\nbody'), 'ok-name/SKILL.md')],
      }),
      /description/,
    );
    await bad(client.beta.skills.create({ files: await files('Fine.', 'Not A Slug', 'x') }), /lowercase/);
    await bad(
      client.beta.skills.create({
        files: [await toFile(Buffer.from(skillMd('x')), 'SKILL.md'), await toFile(Buffer.from('x'), '../escape.sh')],
      }),
      /relative path/,
    );
    // A version must keep the skill's name.
    const renamed = await statusOf(
      client.beta.skills.versions.create(zipped.id, { files: await files('Other.', 'other-name', 'other-name') }),
    );
    expect(renamed.status).toBe(409);

    const model = `${harness.platform.prefix}-refs`;
    const agentWith = (skills: Anthropic.Beta.Agents.AgentCreateParams['skills']) =>
      client.beta.agents.create({ name: 'refs', model, skills });
    expect((await statusOf(agentWith([{ type: 'custom', skill_id: 'skill_nope' }]))).status).toBe(400);
    expect((await statusOf(agentWith([{ type: 'anthropic', skill_id: 'xlsx' }]))).message).toMatch(/not shipped/);
    expect((await statusOf(agentWith([{ type: 'custom', skill_id: zipped.id, version: '123' }]))).message).toMatch(
      /no version/,
    );
    expect(
      (
        await statusOf(
          agentWith([
            { type: 'custom', skill_id: zipped.id },
            { type: 'custom', skill_id: zipped.id },
          ]),
        )
      ).status,
    ).toBe(400);
  });

  it('keeps skills to their tenant and deletes a skill once its versions are gone', async () => {
    const skill = await client.beta.skills.create({ files: await files('Mine.', 'tenant-only', 'tenant-only') });
    const other = await createTenantWithKey(harness.platform.pool, `other ${harness.platform.prefix}`);
    const stranger = new Anthropic({ apiKey: other.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
    expect((await statusOf(stranger.beta.skills.retrieve(skill.id))).status).toBe(404);
    expect((await statusOf(stranger.beta.skills.versions.list(skill.id))).status).toBe(404);
    const seen = [];
    for await (const listed of stranger.beta.skills.list()) seen.push(listed.id);
    expect(seen).not.toContain(skill.id);
    expect(
      (
        await statusOf(
          stranger.beta.agents.create({ name: 'x', model: 'm', skills: [{ type: 'custom', skill_id: skill.id }] }),
        )
      ).status,
    ).toBe(400);

    const mine = [];
    for await (const listed of client.beta.skills.list({ source: 'custom' })) mine.push(listed.id);
    expect(mine).toContain(skill.id);

    // As Anthropic's API: a skill with versions is not deleted; its versions are, one by one, then the skill.
    expect((await statusOf(client.beta.skills.delete(skill.id))).status).toBe(409);
    const version = skill.latest_version_id;
    expect(await client.beta.skills.versions.delete(version, { skill_id: skill.id })).toEqual({
      id: version,
      type: 'skill_version_deleted',
    });
    expect((await statusOf(client.beta.skills.versions.retrieve(version, { skill_id: skill.id }))).status).toBe(404);
    expect(await client.beta.skills.delete(skill.id)).toEqual({ id: skill.id, type: 'skill_deleted' });
    expect((await statusOf(client.beta.skills.retrieve(skill.id))).status).toBe(404);
  });
});
