// Provider mode against our own control plane: this platform's sandbox host serves a self-hosted environment's
// session through the work protocol (the official SDK's runner with our Docker toolset). The session's write, bash and
// read run in a hardened container of its own — /workspace, uid 1000, its only way out the egress proxy with the
// provider's allow-list — not on the provider's machine. When the work item ends the workspace is snapshotted and the
// container removed; the next turn's item restores it. A container a dead provider left behind is swept once its
// session has no open item.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { sandboxLabels } from '../../activities/sandbox/container-spec.ts';
import { ProviderSandboxes } from '../../activities/sandbox/provider-sandboxes.ts';
import { SnapshotStore } from '../../activities/sandbox/snapshot-store.ts';
import { SecretBox } from '../../db/repositories/secret-box.ts';
import { developmentVaultKey } from '../../domain/config.ts';
import { UrlGuard } from '../../net/url-guard.ts';
import { providerSandboxSpec, startProviderWorker, type ProviderWorker } from '../../workers/provider-worker.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { testContainerLabels } from '../support/platform.ts';

let harness: ApiHarness;
let provider: ProviderWorker | undefined;
const docker = new Docker();
const upstreams: http.Server[] = [];
const reached: string[] = [];

/** An HTTP server of the test's on a loopback address (sandboxes keep 127.0.0.1 for themselves). */
async function upstream(address: string): Promise<number> {
  const server = http.createServer((request, response) => {
    reached.push(`${address}${request.url}`);
    response.end(`hello from ${address}\n`);
  });
  upstreams.push(server);
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  harness = await startApiHarness('self-hosted-provider', { workers: ['session', 'model'] });
});
afterAll(async () => {
  await provider?.stop();
  for (const server of upstreams) server.close();
  await harness?.stop();
});

const resultText = (event: BetaManagedAgentsSessionEvent): string =>
  event.type === 'user.tool_result'
    ? (event.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('')
    : '';

it('serves a self-hosted session in Docker sandboxes with the egress allow-list, snapshots between items', async () => {
  const allowedPort = await upstream('127.0.0.4');
  const deniedPort = await upstream('127.0.0.2');
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const environment = await client.beta.environments.create({
    name: `provider-${harness.platform.prefix}`,
    config: { type: 'self_hosted' },
  });
  const created = await harness.request(`/v1/environments/${environment.id}/keys`, { method: 'POST', body: '{}' });
  const { key } = (await created.json()) as { key: string };
  const guard = new UrlGuard(['127.0.0.0/8']); // the upstreams are on loopback, which the operator must allow
  const options = {
    apiUrl: harness.baseURL,
    environmentId: environment.id,
    environmentKey: key,
    docker,
    pool: harness.platform.pool,
    image: inject('sandboxImage'),
    allowedHosts: ['127.0.0.4'],
    egress: {
      secretBox: new SecretBox(developmentVaultKey),
      socketDir: await mkdtemp('/tmp/egress-'),
      isAllowedAddress: (address: string) => guard.isAllowedAddress(address),
    },
    extraLabels: testContainerLabels(),
    maxIdleMs: 500,
  };
  provider = await startProviderWorker(options);

  const model = `${harness.platform.prefix}-provider`;
  harness.platform.fakeModel.setScript(model, [
    {
      toolCalls: [
        { name: 'write', input: { file_path: 'notes.txt', content: 'kept in the sandbox\n' } },
        { name: 'bash', input: { command: 'pwd; id -u; cat notes.txt; cat skills/provider-notes/SKILL.md' } },
      ],
    },
    {
      toolCalls: [
        { name: 'read', input: { file_path: 'notes.txt' } },
        {
          name: 'bash',
          input: {
            command:
              `curl -sS -m 10 http://127.0.0.4:${allowedPort}/allowed; ` +
              `curl -sS -m 10 -o /dev/null -w 'denied:%{http_code}' http://127.0.0.2:${deniedPort}/denied`,
          },
        },
      ],
    },
    { text: 'Done.' },
    { toolCalls: [{ name: 'bash', input: { command: 'cat notes.txt; echo more >> notes.txt' } }] },
    { text: 'Found it again.' },
  ]);
  const skillMd = '---\nname: provider-notes\ndescription: Notes the provider keeps.\n---\n\nThe word is THYME.\n';
  const skill = await client.beta.skills.create({
    files: [await toFile(Buffer.from(skillMd), 'provider-notes/SKILL.md', { type: 'text/markdown' })],
  });
  const agent = await client.beta.agents.create({
    name: model,
    model,
    tools: [{ type: 'agent_toolset_20260401' }],
    skills: [{ type: 'custom', skill_id: skill.id }],
  });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const owner = { tenantId: `provider:${environment.id}`, sessionId: session.id };
  const snapshots = new SnapshotStore(harness.platform.pool);
  const containers = () =>
    docker.listContainers({ all: true, filters: { label: [`${sandboxLabels.session}=${session.id}`] } });
  const say = (text: string) =>
    client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
    });
  const turnsEnded = (count: number) =>
    eventually(
      async () => {
        const all: BetaManagedAgentsSessionEvent[] = [];
        for await (const event of client.beta.sessions.events.list(session.id)) all.push(event);
        const ended = all.filter((event) => event.type === 'session.status_idle');
        return ended.length === count ? all : undefined;
      },
      120_000,
      'the turn to end',
    );

  await say('Write, read, reach out.');
  const events = await turnsEnded(1);
  const results = events.filter((event) => event.type === 'user.tool_result');
  expect(results).toHaveLength(4);
  expect(results.every((event) => event.type === 'user.tool_result' && !event.is_error)).toBe(true);
  expect(resultText(results[1]!)).toMatch(/\/workspace\s+1000\s+kept in the sandbox/);
  expect(resultText(results[1]!)).toContain('The word is THYME.'); // the skill the runner set up, in the container
  expect(resultText(results[2]!)).toContain('kept in the sandbox');
  // The allow-list: the allowed host answered through the proxy, the other was refused by it.
  expect(resultText(results[3]!)).toContain('hello from 127.0.0.4');
  expect(resultText(results[3]!)).toContain('denied:403');
  expect(reached).toEqual(['127.0.0.4/allowed']);

  // The item ends (the runner's idle time after the turn): the workspace is snapshotted, the container removed.
  await eventually(async () => ((await containers()).length === 0 ? true : undefined), 60_000, 'the container to go');
  expect(await snapshots.idsForSession(owner)).toHaveLength(1);

  // The next turn's item restores the workspace into a new container.
  await say('Again.');
  const again = (await turnsEnded(2)).filter((event) => event.type === 'user.tool_result');
  expect(resultText(again.at(-1)!)).toContain('kept in the sandbox');
  await eventually(async () => ((await containers()).length === 0 ? true : undefined), 60_000, 'the container to go');
  expect(await snapshots.idsForSession(owner)).toHaveLength(2);

  // A container left by a provider that died (here: made directly) goes at the next sweep: its session has no item.
  const leftovers = new ProviderSandboxes(docker, {
    spec: providerSandboxSpec(options.image),
    snapshots,
    environmentId: environment.id,
    extraLabels: options.extraLabels,
  });
  const leftover = await leftovers.containerFor('sesn_left_behind');
  expect(await provider.sweep()).toEqual([leftover]);
  expect(await docker.listContainers({ all: true, filters: { id: [leftover] } })).toHaveLength(0);
});
