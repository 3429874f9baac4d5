// Memory stores through the official SDK, with sessions whose sandboxes mount them: session 1 writes a memory with
// bash; after it ended and its sandbox worker was SIGKILLed, session 2 (another sandbox, from a new worker process)
// reads it and cannot change it through a read_only mount; two sessions that mounted the same memory both write it
// and both versions are recorded; a redacted version's content is gone from every table of the database, from the
// session's Temporal history, from the running sandbox that mounted it and from its workspace snapshots.
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import type { FakeTurn } from '../fake-model/script.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { sessionHistoryText } from '../support/history-text.ts';
import { testContainerLabels } from '../support/platform.ts';
import { regularFiles } from '../../activities/sandbox/session-files.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';
import { listEvents, post, waitForIdle } from '../fixtures/trace/scenario.ts';

let harness: ApiHarness;
let client: Anthropic;
const docker = new Docker();
const processes: ManagedProcess[] = [];

const startSandboxWorker = async (hostId: string) => {
  const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
  const child = await startWorkerProcess('sandbox', {
    prefix: harness.platform.prefix,
    extraEnv: { AGENTS_SANDBOX_HOST_ID: hostId, AGENTS_SANDBOX_EXTRA_LABELS: labels.join(',') },
  });
  processes.push(child);
  return child;
};

beforeAll(async () => {
  harness = await startApiHarness('memory', { workers: ['session', 'model'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await Promise.all(processes.splice(0).map((child) => child.stop('SIGKILL')));
  await harness?.stop();
});

const bash = (command: string) => ({ toolCalls: [{ name: 'bash', input: { command } }] });

async function scriptedSession(
  label: string,
  turns: FakeTurn[],
  resources: Anthropic.Beta.Sessions.SessionCreateParams['resources'],
) {
  const model = `${harness.platform.prefix}-${label}`;
  harness.platform.fakeModel.setScript(model, turns);
  const agent = await post(harness, '/v1/agents', { name: label, model, tools: [{ type: 'agent_toolset_20260401' }] });
  const environment = await post(harness, '/v1/environments', { name: `env-${harness.platform.prefix}-${label}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id, resources });
  return { model, session };
}

async function turn(sessionId: string, text: string, count = 1) {
  await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  await waitForIdle(harness, sessionId, 'end_turn', count);
}

async function versionsOf(storeId: string, memoryId: string) {
  const versions = [];
  for await (const version of client.beta.memoryStores.memoryVersions.list(storeId, {
    memory_id: memoryId,
    view: 'full',
  })) {
    versions.push(version);
  }
  return versions.reverse();
}

const toolResults = async (sessionId: string) =>
  (await listEvents(harness, sessionId))
    .filter((event) => event.type === 'agent.tool_result')
    .map((event) => JSON.stringify((event as { content?: unknown }).content ?? ''));

/** Every table and column of the database whose text (or bytes) contains `needle`. */
async function placesHolding(needle: string): Promise<string[]> {
  const { rows: columns } = await harness.platform.pool.query<{
    table_name: string;
    column_name: string;
    data_type: string;
  }>(
    `select table_name, column_name, data_type from information_schema.columns
     where table_schema = 'public' and data_type in ('text', 'jsonb', 'json', 'bytea', 'character varying')`,
  );
  const found: string[] = [];
  for (const column of columns) {
    const test =
      column.data_type === 'bytea'
        ? `position(convert_to($1, 'UTF8') in "${column.column_name}") > 0`
        : `strpos("${column.column_name}"::text, $1) > 0`;
    const { rows } = await harness.platform.pool.query(`select 1 from "${column.table_name}" where ${test} limit 1`, [
      needle,
    ]);
    if (rows.length > 0) found.push(`${column.table_name}.${column.column_name}`);
  }
  return found;
}

it('a memory written in one session is read by the next after a sandbox worker crash; redaction removes it', async () => {
  const store = await client.beta.memoryStores.create({ name: 'User Prefs', description: 'What the user likes.' });
  const about = await client.beta.memoryStores.memories.create(store.id, {
    path: '/about.md',
    content: 'owner: tests',
  });
  expect(about).toMatchObject({ path: '/about.md', content: null, content_size_bytes: 12 });
  const sandboxWorker = await startSandboxWorker(`${harness.platform.prefix}-host-1`);

  const secret = 'favourite colour: teal';
  const first = await scriptedSession(
    'memory-writer',
    [
      bash(`cat /mnt/memory/user-prefs/about.md && printf '${secret}' > /mnt/memory/user-prefs/colour.md`),
      { text: 'Saved.' },
    ],
    [{ type: 'memory_store', memory_store_id: store.id, instructions: 'Keep preferences here.' }],
  );
  expect(first.session.resources).toEqual([
    expect.objectContaining({
      type: 'memory_store',
      memory_store_id: store.id,
      access: 'read_write',
      mount_path: '/mnt/memory/user-prefs',
      name: 'User Prefs',
    }),
  ]);
  await turn(first.session.id, 'Remember my favourite colour.');
  expect((await toolResults(first.session.id))[0]).toContain('owner: tests');
  // The store's section is in the system prompt the model received.
  const system = JSON.stringify(harness.platform.fakeModel.requests(first.model)[0]?.body.system);
  expect(system).toContain('/mnt/memory/user-prefs');
  expect(system).toContain('Keep preferences here.');

  // Synced at the turn's end, written by the session.
  const colour = await eventually(
    async () => {
      for await (const memory of client.beta.memoryStores.memories.list(store.id)) {
        if (memory.type === 'memory' && memory.path === '/colour.md') return memory;
      }
      return undefined;
    },
    30_000,
    'the synced memory',
  );
  expect(await client.beta.memoryStores.memories.retrieve(colour.id, { memory_store_id: store.id })).toMatchObject({
    content: secret,
  });
  const [written] = await versionsOf(store.id, colour.id);
  expect(written).toMatchObject({
    operation: 'created',
    content: secret,
    created_by: { type: 'session_actor', session_id: first.session.id },
  });

  // Session 1 ends; its sandbox worker dies; session 2 runs in a new sandbox from another worker process.
  await client.beta.sessions.archive(first.session.id);
  await sandboxWorker.stop('SIGKILL');
  await startSandboxWorker(`${harness.platform.prefix}-host-2`);
  const second = await scriptedSession(
    'memory-reader',
    [
      bash(`cat /mnt/memory/user-prefs/colour.md; echo; echo blue > /mnt/memory/user-prefs/colour.md || echo refused`),
      { text: 'Teal.' },
    ],
    [{ type: 'memory_store', memory_store_id: store.id, access: 'read_only' }],
  );
  await turn(second.session.id, 'What is my favourite colour?');
  const [readBack] = await toolResults(second.session.id);
  expect(readBack).toContain(secret);
  expect(readBack).toMatch(/refused|Permission denied|Read-only/);
  expect(await versionsOf(store.id, colour.id)).toHaveLength(1);

  // Before redaction the content is in the versions and in the sessions' logs (the command and the read).
  expect(await placesHolding(secret)).toEqual(
    expect.arrayContaining(['memories.content', 'memory_versions.content', 'session_events.body']),
  );
  // Redaction: the live content moves on first (the current version cannot be redacted), then the old one goes.
  await expect(
    client.beta.memoryStores.memoryVersions.redact(written!.id, { memory_store_id: store.id }),
  ).rejects.toMatchObject({ status: 409 });
  await client.beta.memoryStores.memories.update(colour.id, { memory_store_id: store.id, content: 'ask the user' });
  const redacted = await client.beta.memoryStores.memoryVersions.redact(written!.id, { memory_store_id: store.id });
  expect(redacted).toMatchObject({
    content: null,
    path: null,
    content_sha256: null,
    content_size_bytes: null,
    created_by: { type: 'session_actor', session_id: first.session.id },
    redacted_by: { type: 'api_actor', api_key_id: harness.tenant.keyId },
  });
  expect(redacted.redacted_at).toEqual(expect.any(String));
  expect(await placesHolding(secret)).toEqual([]);
  // The record stays: two versions, the first without content.
  expect((await versionsOf(store.id, colour.id)).map((version) => [version.operation, version.content])).toEqual([
    ['created', null],
    ['modified', 'ask the user'],
  ]);
}, 240_000);

it('two sessions writing the same memory: both versions are recorded, neither overwrites silently', async () => {
  const store = await client.beta.memoryStores.create({ name: 'Shared' });
  const plan = await client.beta.memoryStores.memories.create(store.id, { path: '/plan.md', content: 'v1' });
  if (processes.length === 0) await startSandboxWorker(`${harness.platform.prefix}-host-3`);
  const resources = [{ type: 'memory_store' as const, memory_store_id: store.id }];
  const sessions = await Promise.all(
    ['x', 'y'].map((name) =>
      scriptedSession(
        `memory-${name}`,
        [
          bash('cat /mnt/memory/shared/plan.md'),
          { text: 'Read.' },
          bash(`printf 'plan from ${name}' > /mnt/memory/shared/plan.md`),
          { text: 'Written.' },
        ],
        resources,
      ),
    ),
  );
  const [x, y] = sessions.map((entry) => entry.session.id) as [string, string];
  // Both sandboxes mount the memory at v1 before either writes.
  await Promise.all([turn(x, 'Read the plan.'), turn(y, 'Read the plan.')]);
  await turn(x, 'Write your plan.', 2);
  await eventually(async () => ((await versionsOf(store.id, plan.id)).length >= 2 ? true : undefined), 30_000, 'x');
  await turn(y, 'Write your plan.', 2);
  const versions = await eventually(
    async () => {
      const list = await versionsOf(store.id, plan.id);
      return list.length >= 3 ? list : undefined;
    },
    30_000,
    'y',
  );
  expect(versions.map((version) => [version.operation, version.content, version.created_by])).toEqual([
    ['created', 'v1', { type: 'api_actor', api_key_id: harness.tenant.keyId }],
    ['modified', 'plan from x', { type: 'session_actor', session_id: x }],
    ['modified', 'plan from y', { type: 'session_actor', session_id: y }],
  ]);
  const live = await client.beta.memoryStores.memories.retrieve(plan.id, { memory_store_id: store.id });
  expect(live).toMatchObject({ content: 'plan from y', memory_version_id: versions[2]!.id });
}, 180_000);

async function sessionContainer(sessionId: string): Promise<Docker.Container> {
  const [info] = await docker.listContainers({
    all: true,
    filters: { label: [`io.temporal-agents.session=${sessionId}`] },
  });
  if (!info) throw new Error(`no container for ${sessionId}`);
  return docker.getContainer(info.Id);
}

/** Runs a script as root in the container (unpaused for the while, if the idle session paused it). */
async function execAsRoot(container: Docker.Container, script: string): Promise<string> {
  const paused = (await container.inspect()).State.Paused;
  if (paused) await container.unpause();
  try {
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
    return Buffer.concat(chunks).toString('utf8').replaceAll('\r\n', '\n');
  } finally {
    if (paused) await container.pause();
  }
}

/** The files of the whole sandbox filesystem holding any of `needles`. */
async function sandboxFilesHolding(container: Docker.Container, needles: string[]): Promise<string[]> {
  const patterns = needles.map((needle) => `-e '${needle}'`).join(' ');
  const output = await execAsRoot(
    container,
    `grep -rlF ${patterns} / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev 2>/dev/null; echo scanned`,
  );
  expect(output).toContain('scanned');
  return output
    .split('\n')
    .filter((line) => line.startsWith('/'))
    .sort();
}

/** Per snapshot of the session: the files of its workspace tar holding any of `needles`. */
async function snapshotFilesHolding(sessionId: string, needles: string[]): Promise<string[][]> {
  const { rows } = await harness.platform.pool.query<{ data: Buffer }>(
    'select data from sandbox_snapshots where session_id = $1 order by created_at',
    [sessionId],
  );
  const found: string[][] = [];
  for (const row of rows) {
    const files = await regularFiles(row.data);
    found.push(files.filter((file) => needles.some((needle) => file.data.includes(needle))).map((file) => file.path));
  }
  return found;
}

it('a redacted version is gone from the database, the session history, the running sandbox and its snapshots', async () => {
  const suffix = randomUUID();
  const [writable, readable] = [`redact-me-rw-${suffix}`, `redact-me-ro-${suffix}`];
  const historyMarker = `history-marker-${suffix}`;
  const workspaceMarker = `workspace-marker-${suffix}`;
  const notes = await client.beta.memoryStores.create({ name: 'Case Notes' });
  const refs = await client.beta.memoryStores.create({ name: 'Case Refs' });
  const note = await client.beta.memoryStores.memories.create(notes.id, { path: '/case/note.md', content: writable });
  const ref = await client.beta.memoryStores.memories.create(refs.id, { path: '/ref.md', content: readable });
  if (processes.length === 0) await startSandboxWorker(`${harness.platform.prefix}-host-4`);
  const { session } = await scriptedSession(
    'memory-redaction',
    [
      // The agent only hashes the memories: their content reaches the sandbox through the mount alone.
      bash(
        `sha256sum /mnt/memory/case-notes/case/note.md /mnt/memory/case-refs/ref.md; echo ${workspaceMarker} > marker`,
      ),
      { text: 'Hashed.' },
      bash('cat /mnt/memory/case-notes/case/note.md; echo; cat /mnt/memory/case-refs/ref.md'),
      { text: 'Read.' },
    ],
    [
      { type: 'memory_store', memory_store_id: notes.id },
      { type: 'memory_store', memory_store_id: refs.id, access: 'read_only' },
    ],
  );
  await turn(session.id, `Hash the memories (${historyMarker}).`);
  const container = await sessionContainer(session.id);
  const snapshotted = await eventually(
    async () =>
      (await snapshotFilesHolding(session.id, [workspaceMarker])).some((files) => files.length > 0) ? true : undefined,
    30_000,
    'the turn-end workspace snapshot',
  );
  expect(snapshotted).toBe(true);

  // Controls: every scan finds what is there, so the absences below mean something.
  expect(await sandboxFilesHolding(container, [writable, readable])).toEqual([
    '/mnt/memory/case-notes/case/note.md',
    '/mnt/memory/case-refs/ref.md',
  ]);
  const before = await sessionHistoryText(harness.platform.client, harness.platform.dataConverter, session.id);
  expect(before.decoded).toContain(historyMarker);
  expect(before.raw).not.toContain(historyMarker);
  expect((await placesHolding(writable)).sort()).toEqual(['memories.content', 'memory_versions.content']);

  // The memories move on through the API; their first versions are redacted.
  await client.beta.memoryStores.memories.update(note.id, { memory_store_id: notes.id, content: 'case closed' });
  await client.beta.memoryStores.memories.update(ref.id, { memory_store_id: refs.id, content: 'see the ticket' });
  for (const [storeId, memoryId] of [
    [notes.id, note.id],
    [refs.id, ref.id],
  ] as const) {
    const [first] = await versionsOf(storeId, memoryId);
    await client.beta.memoryStores.memoryVersions.redact(first!.id, { memory_store_id: storeId });
  }

  // The running sandbox: the sandbox host heard the redaction and replaced the files with the current content.
  await eventually(
    async () => ((await sandboxFilesHolding(container, [writable, readable])).length === 0 ? true : undefined),
    30_000,
    'the redacted content leaving the sandbox',
  );
  expect(await sandboxFilesHolding(container, ['case closed', 'see the ticket'])).toEqual([
    '/mnt/memory/case-notes/case/note.md',
    '/mnt/memory/case-refs/ref.md',
  ]);
  // The database, the session's history (decoded through the platform's codec) and every workspace snapshot.
  for (const content of [writable, readable]) expect(await placesHolding(content)).toEqual([]);
  const after = await sessionHistoryText(harness.platform.client, harness.platform.dataConverter, session.id);
  expect(after.decoded).toContain(historyMarker);
  for (const text of [after.raw, after.decoded]) {
    expect(text).not.toContain(writable);
    expect(text).not.toContain(readable);
  }
  const snapshots = await snapshotFilesHolding(session.id, [writable, readable]);
  expect(snapshots.length).toBeGreaterThan(0);
  expect(snapshots.flat()).toEqual([]);

  // The agent reads the current content; the turn-end sync finds nothing of its own to write back.
  await turn(session.id, 'Read them.', 2);
  expect((await toolResults(session.id))[1]).toMatch(/case closed[\s\S]*see the ticket/);
  expect((await versionsOf(notes.id, note.id)).map((version) => version.operation)).toEqual(['created', 'modified']);
}, 240_000);
