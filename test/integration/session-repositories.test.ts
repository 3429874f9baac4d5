// What the agent works on, through the official SDK: github_repository resources served by a real git HTTP server on
// loopback (token-checked), cloned by the sandbox worker (a separate process, whose log we read) at a branch and at a
// commit; a wrong token is a repository_authentication_error, the session goes on, and a rotated token
// (resources.update) brings the repository; the token is nowhere in history, events, logs, the database's plain
// columns, the container's filesystem or environment. Files added and removed mid-session reach the running sandbox,
// and an output written in a turn is a session file after that turn.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server.ts';
import { recordHistory } from '../support/histories.ts';
import { sessionHistoryText } from '../support/history-text.ts';
import { testContainerLabels } from '../support/platform.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';
import { listEvents, post, waitForIdle } from '../fixtures/trace/scenario.ts';

const token = `ghp_${randomBytes(18).toString('hex')}`;
const tokenBasic = Buffer.from(`x-access-token:${token}`).toString('base64');
const network = { AGENTS_PRIVATE_NETWORK_ALLOWLIST: '127.0.0.0/8', AGENTS_REPOSITORY_HOSTS: '127.0.0.1' };
const docker = new Docker();

let harness: ApiHarness;
let git: GitHttpServer;
let sandboxWorker: ManagedProcess;
let client: Anthropic;
let repo: { url: string; commits: Record<string, string> };

beforeAll(async () => {
  git = await startGitHttpServer({ token });
  repo = git.createRepository('acme/widgets', {
    main: { 'README.md': 'widgets on main\n' },
    feature: { 'FEATURE.md': 'the feature branch\n' },
  });
  harness = await startApiHarness('repos', { workers: ['session', 'model'], config: network });
  const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
  sandboxWorker = await startWorkerProcess('sandbox', {
    prefix: harness.platform.prefix,
    extraEnv: {
      ...network,
      AGENTS_SANDBOX_HOST_ID: `${harness.platform.prefix}-host`,
      AGENTS_SANDBOX_EXTRA_LABELS: labels.join(','),
      AGENTS_SANDBOX_WARM_POOL_MIN: '0',
    },
  });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await sandboxWorker?.stop('SIGKILL');
  await harness?.stop();
  await git?.close();
});

const toolResults = (events: SessionEvent[]): string[] =>
  events.flatMap((event) =>
    event.type === 'agent.tool_result' ? [(event.content ?? []).map((block) => block.text ?? '').join('')] : [],
  );

async function sessionWith(label: string, script: Parameters<typeof harness.platform.fakeModel.setScript>[1]) {
  const model = `${harness.platform.prefix}-${label}`;
  harness.platform.fakeModel.setScript(model, script);
  const agent = await post(harness, '/v1/agents', { name: label, model, tools: [{ type: 'agent_toolset_20260401' }] });
  const environment = await post(harness, '/v1/environments', { name: `env-${harness.platform.prefix}-${label}` });
  return { agent: agent.id, environment_id: environment.id };
}

const send = (sessionId: string, text: string) =>
  client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });

async function sessionContainer(sessionId: string): Promise<Docker.Container> {
  const [info] = await docker.listContainers({ filters: { label: [`io.temporal-agents.session=${sessionId}`] } });
  if (!info) throw new Error(`no running container for ${sessionId}`);
  return docker.getContainer(info.Id);
}

async function execAsRoot(container: Docker.Container, script: string): Promise<string> {
  // A TTY: one plain stream, no multiplexing headers between the lines.
  const exec = await container.exec({
    Cmd: ['bash', '-c', script],
    User: '0:0',
    Tty: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ Tty: true });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => stream.once('end', resolve));
  return Buffer.concat(chunks).toString('latin1').replaceAll('\r\n', '\n');
}

it('clones a repository at a branch and at a commit; the token is nowhere but sealed in its row', async () => {
  const ids = await sessionWith('clone', [
    {
      toolCalls: [
        {
          name: 'bash',
          input: {
            command:
              'cd /workspace/widgets && git log -1 --format=%H && cat FEATURE.md && git status --short --branch && ' +
              'git -C /workspace/pinned log -1 --format=%H && ls /workspace/pinned',
          },
        },
      ],
    },
    { text: 'Read both.' },
  ]);
  const session = await client.beta.sessions.create({
    ...ids,
    resources: [
      {
        type: 'github_repository',
        url: repo.url,
        authorization_token: token,
        checkout: { type: 'branch', name: 'feature' },
      },
      {
        type: 'github_repository',
        url: repo.url,
        authorization_token: token,
        checkout: { type: 'commit', sha: repo.commits.main! },
        mount_path: '/workspace/pinned',
      },
    ],
  });
  expect(session.resources).toEqual([
    expect.objectContaining({
      type: 'github_repository',
      url: repo.url,
      mount_path: '/workspace/widgets',
      checkout: { type: 'branch', name: 'feature' },
    }),
    expect.objectContaining({ type: 'github_repository', mount_path: '/workspace/pinned' }),
  ]);
  expect(JSON.stringify(session)).not.toContain(token);

  await send(session.id, 'Look at the repositories.');
  await waitForIdle(harness, session.id, 'end_turn');
  const events = await listEvents(harness, session.id);
  const [output] = toolResults(events);
  expect(output).toContain(repo.commits.feature);
  expect(output).toContain('the feature branch');
  expect(output).toContain('## feature');
  expect(output).toContain(repo.commits.main);
  expect(output).toMatch(/README\.md\s*$/);
  expect(events.filter((event) => event.type === 'session.error')).toEqual([]);

  // The token went to the git server, as an Authorization header only.
  expect(git.authorizations).toContain(`Basic ${tokenBasic}`);
  await assertTokenAbsent(session.id, events);
});

async function assertTokenAbsent(sessionId: string, events: SessionEvent[]): Promise<void> {
  const container = await sessionContainer(sessionId);
  const found = await execAsRoot(
    container,
    `grep -rlF -e '${token}' -e '${tokenBasic}' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev 2>/dev/null; ` +
      `cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -F -e '${token}' -e '${tokenBasic}'; ` +
      "git -c safe.directory='*' -C /workspace/widgets config --list; " +
      // A control: the same scan does find what is there.
      "grep -rlF 'widgets on main' /workspace --exclude-dir=.git; echo scanned",
  );
  expect(found).toContain('scanned');
  expect(found).toContain(`remote.origin.url=${repo.url}`);
  expect(found).not.toContain(token);
  expect(found).not.toContain(tokenBasic);
  expect(found).toContain('/workspace/widgets/README.md');
  expect(found.split('\n').filter((line) => /^\/(?!workspace\/widgets\/README\.md$)/.test(line))).toEqual([]);
  for (const text of [
    JSON.stringify(events),
    readFileSync(sandboxWorker.logFile, 'utf8'),
    harness.logLines.join('\n'),
  ]) {
    expect(text).not.toContain(token);
    expect(text).not.toContain(tokenBasic);
  }
  const history = await sessionHistoryText(harness.platform.client, harness.platform.dataConverter, sessionId);
  expect(history.payloadCount).toBeGreaterThan(0);
  for (const text of [history.raw, history.decoded]) {
    expect(text).not.toContain(token);
    expect(text).not.toContain(tokenBasic);
  }
  const { rows } = await harness.platform.pool.query<{ authorization_token_sealed: Buffer | null }>(
    'select id, url, checkout, mount_path, authorization_token_sealed from session_resources where session_id = $1',
    [sessionId],
  );
  expect(rows.length).toBeGreaterThan(0);
  expect(JSON.stringify(rows)).not.toContain(token);
  const sealed = Buffer.concat(
    rows.flatMap((row) => (row.authorization_token_sealed ? [row.authorization_token_sealed] : [])),
  );
  expect(sealed.length).toBeGreaterThan(0);
  expect(sealed.includes(token)).toBe(false);
}

it('a wrong token is a repository_authentication_error; the session goes on, and a rotated token clones it', async () => {
  const ids = await sessionWith('wrong-token', [
    { toolCalls: [{ name: 'bash', input: { command: 'ls /workspace; echo still-working' } }] },
    { text: 'No repository.' },
    { toolCalls: [{ name: 'bash', input: { command: 'cat /workspace/widgets/README.md' } }] },
    { text: 'Now it is there.' },
  ]);
  const session = await client.beta.sessions.create({
    ...ids,
    resources: [{ type: 'github_repository', url: repo.url, authorization_token: 'ghp_wrong' }],
  });
  await send(session.id, 'Try the repository.');
  await waitForIdle(harness, session.id, 'end_turn');
  let events = await listEvents(harness, session.id);
  const errors = events.filter((event) => event.type === 'session.error');
  expect(errors).toEqual([
    expect.objectContaining({
      error: expect.objectContaining({
        type: 'repository_authentication_error',
        repository_url: repo.url,
        retry_status: { type: 'exhausted' },
      }),
    }),
  ]);
  expect(toolResults(events)[0]).toContain('still-working');
  expect(toolResults(events)[0]).not.toContain('widgets');

  const [resource] = session.resources;
  if (resource?.type !== 'github_repository') throw new Error('expected the repository resource');
  const resourceId = resource.id;
  const rotated = await client.beta.sessions.resources.update(resourceId, {
    session_id: session.id,
    authorization_token: token,
  });
  expect(rotated).toEqual(expect.objectContaining({ id: resourceId, type: 'github_repository', url: repo.url }));
  expect(JSON.stringify(rotated)).not.toContain(token);

  await send(session.id, 'Try again.');
  await waitForIdle(harness, session.id, 'end_turn', 2);
  events = await listEvents(harness, session.id);
  expect(toolResults(events)[1]).toContain('widgets on main');
  expect(events.filter((event) => event.type === 'session.error')).toHaveLength(1);
  await assertTokenAbsent(session.id, events);
  // The patched branch (repository errors journaled) for the replay gate.
  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'repository-errors');
});

it('refuses a repository host off the allow-list and a mount path outside /workspace', async () => {
  const ids = await sessionWith('refused', [{ text: 'unused' }]);
  for (const resource of [
    { type: 'github_repository' as const, url: 'https://example.com/acme/widgets.git' },
    { type: 'github_repository' as const, url: repo.url, mount_path: '/etc/widgets' },
    { type: 'github_repository' as const, url: repo.url.replace('http://', 'http://user:pass@') },
  ]) {
    await expect(client.beta.sessions.create({ ...ids, resources: [resource] })).rejects.toMatchObject({ status: 400 });
  }
});

it('files added and removed mid-session reach the running sandbox; outputs are captured at turn end', async () => {
  const uploaded = await client.beta.files.upload({
    file: await toFile(Buffer.from('added while running\n'), 'late.txt', { type: 'text/plain' }),
  });
  const mountPath = `/mnt/session/uploads/${uploaded.id}`;
  const ids = await sessionWith('live-files', [
    { toolCalls: [{ name: 'bash', input: { command: `cat ${mountPath} 2>&1 || echo absent` } }] },
    { text: 'Not there.' },
    {
      toolCalls: [
        { name: 'bash', input: { command: `cat ${mountPath} && echo turn-two > /mnt/session/outputs/notes.txt` } },
      ],
    },
    { text: 'Read it, wrote notes.' },
    { toolCalls: [{ name: 'bash', input: { command: `ls ${mountPath} 2>&1 || echo removed` } }] },
    { text: 'Gone.' },
  ]);
  const session = await client.beta.sessions.create(ids);
  await send(session.id, 'Is the file there?');
  await waitForIdle(harness, session.id, 'end_turn');
  const container = (await sessionContainer(session.id)).id;

  const added = await client.beta.sessions.resources.add(session.id, { type: 'file', file_id: uploaded.id });
  expect(added).toEqual(expect.objectContaining({ type: 'file', file_id: uploaded.id, mount_path: mountPath }));
  // A file resource has no token to rotate.
  await expect(
    client.beta.sessions.resources.update(added.id, { session_id: session.id, authorization_token: 'x' }),
  ).rejects.toMatchObject({ status: 400 });
  await send(session.id, 'And now?');
  await waitForIdle(harness, session.id, 'end_turn', 2);
  // Captured at the end of the turn that wrote it.
  const outputs = await eventually(async () => {
    const page = [];
    for await (const file of client.beta.files.list({ scope_id: session.id })) page.push(file);
    return page.length > 0 ? page : undefined;
  });
  expect(outputs).toEqual([expect.objectContaining({ filename: 'notes.txt' })]);
  expect(await (await client.beta.files.download(outputs[0]!.id)).text()).toBe('turn-two\n');

  await client.beta.sessions.resources.delete(added.id, { session_id: session.id });
  await send(session.id, 'Still there?');
  await waitForIdle(harness, session.id, 'end_turn', 3);

  const results = toolResults(await listEvents(harness, session.id));
  expect(results[0]).toContain('absent');
  expect(results[1]).toContain('added while running');
  expect(results[2]).toContain('removed');
  // One container throughout: the changes reached the running sandbox, not a new one.
  expect((await sessionContainer(session.id)).id).toBe(container);
});
