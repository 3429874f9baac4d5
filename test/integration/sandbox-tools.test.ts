// The sandbox activities as the session workflow calls them: each tool's happy path and error wording, at-most-once
// side effects per tool-use id, snapshots through the activities, and a killed container reported as SandboxGone.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import Docker from 'dockerode';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { FailureType } from '../../domain/errors.ts';
import { defaultSandboxSpec, type SandboxLease, type SandboxOwner, type SandboxSpec } from '../../domain/sandbox.ts';
import { createSandboxActivities } from '../../activities/sandbox/activities.ts';
import { DockerSandbox } from '../../activities/sandbox/docker-sandbox.ts';
import { sandboxLabels } from '../../activities/sandbox/container-spec.ts';
import { WarmPool } from '../../activities/sandbox/warm-pool.ts';

const docker = new Docker();
const testRunLabels = { 'io.temporal-agents.test-run': inject('testRunId') };
const spec: SandboxSpec = { ...defaultSandboxSpec(inject('sandboxImage')), memoryMb: 256, pidsLimit: 128 };
const owner: SandboxOwner = { tenantId: 'tnt_tools', sessionId: `sesn_tools_${randomBytes(3).toString('hex')}` };

let pool: pg.Pool;
let activities: ReturnType<typeof createSandboxActivities>;
let lease: SandboxLease;

const newToolUseId = () => `toolu_${randomBytes(8).toString('hex')}`;
const run = (name: string, input: Record<string, unknown>, toolUseId = newToolUseId(), env = {}) =>
  activities.runTool({ lease, toolUseId, name, input, env });

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  activities = createSandboxActivities({ docker, pool, hostQueue: 'sandbox-host-test', extraLabels: testRunLabels });
  lease = await activities.createSandbox({ spec, owner });
});

afterAll(async () => {
  await activities.destroySandbox({ lease, owner, deleteSnapshots: true });
  for (const sessionId of [`${owner.sessionId}_gone`, `${owner.sessionId}_snap`]) {
    await activities.destroySandbox({ owner: { ...owner, sessionId }, deleteSnapshots: true });
  }
  await pool.end();
});

describe('sandbox tools', () => {
  it('lease names the host queue', () => {
    expect(lease).toMatchObject({ hostQueue: 'sandbox-host-test', state: 'running' });
  });

  it('bash returns output and exit code, with the session env applied', async () => {
    expect(await run('bash', { command: 'echo "$GREETING from $(pwd)"' }, newToolUseId(), { GREETING: 'hi' })).toEqual({
      content: 'hi from /workspace\n',
      isError: false,
    });
    const failed = await run('bash', { command: 'echo oops; exit 3' });
    expect(failed).toEqual({ content: 'oops\n\n\nExit code 3', isError: true });
  });

  it('rejects bad input with a sentence naming the field', async () => {
    const outcome = await run('edit', { path: 'a.ts', new_string: 'x' });
    expect(outcome.isError).toBe(true);
    expect(outcome.content).toMatch(/^Invalid input for edit: old_string: /);
    expect(await run('nope', {})).toEqual({ content: 'Unknown sandbox tool "nope".', isError: true });
  });

  it('write then read, line-numbered, with offset and limit', async () => {
    expect(await run('write', { path: 'src/a.ts', content: 'one\ntwo\nthree\n' })).toEqual({
      content: 'Created src/a.ts (14 bytes).',
      isError: false,
    });
    expect(await run('read', { path: 'src/a.ts' })).toEqual({
      content: '     1\tone\n     2\ttwo\n     3\tthree',
      isError: false,
    });
    expect((await run('read', { path: '/workspace/src/a.ts', offset: 2, limit: 1 })).content).toBe(
      '     2\ttwo\n\n[1 more lines; read on with offset=3]',
    );
    expect(await run('read', { path: 'src/a.ts', offset: 9 })).toEqual({
      content: 'src/a.ts has 3 lines; offset 9 is past its end.',
      isError: true,
    });
    expect((await run('write', { path: 'src/a.ts', content: 'x\n' })).content).toBe('Updated src/a.ts (2 bytes).');
  });

  it('read explains missing files, folders and binary files', async () => {
    expect((await run('read', { path: 'missing.txt' })).content).toContain('File does not exist: missing.txt');
    expect((await run('read', { path: 'src' })).content).toContain('is a folder');
    await run('bash', { command: 'head -c 100 /dev/urandom > blob.bin; printf "\\0" >> blob.bin' });
    expect((await run('read', { path: 'blob.bin' })).content).toContain('binary');
  });

  it('edit replaces a unique string and explains absent or repeated ones', async () => {
    await run('write', { path: 'src/e.ts', content: 'let a = 1;\nlet b = 1;\nlet c = 1;\n' });
    expect(await run('edit', { path: 'src/e.ts', old_string: 'let b = 1', new_string: 'let b = 2' })).toEqual({
      content: 'Edited src/e.ts: replaced 1 occurrence.',
      isError: false,
    });
    expect(await run('edit', { path: 'src/e.ts', old_string: 'let z', new_string: 'x' })).toMatchObject({
      isError: true,
      content: expect.stringContaining('old_string was not found in src/e.ts') as string,
    });
    expect(await run('edit', { path: 'src/e.ts', old_string: ' = 1;', new_string: ' = 3;' })).toEqual({
      content:
        'old_string was found 2 times in src/e.ts; add surrounding context to make it unique, or set replace_all ' +
        'to replace every occurrence.',
      isError: true,
    });
    expect(
      await run('edit', { path: 'src/e.ts', old_string: ' = 1;', new_string: ' = 3;', replace_all: true }),
    ).toEqual({ content: 'Edited src/e.ts: replaced 2 occurrences.', isError: false });
    expect((await run('read', { path: 'src/e.ts' })).content).toBe(
      '     1\tlet a = 3;\n     2\tlet b = 2;\n     3\tlet c = 3;',
    );
    expect((await run('edit', { path: 'nothere.ts', old_string: 'a', new_string: 'b' })).content).toContain(
      'File does not exist',
    );
  });

  it('glob lists matching files relative to /workspace or to path', async () => {
    await run('bash', { command: 'mkdir -p g/sub && touch g/x.md g/sub/y.md g/sub/z.txt' });
    const all = await run('glob', { pattern: '**/*.md' });
    expect(all.content.split('\n').sort()).toEqual(['g/sub/y.md', 'g/x.md']);
    expect(await run('glob', { pattern: '*.txt', path: 'g' })).toEqual({ content: 'g/sub/z.txt', isError: false });
    expect(await run('glob', { pattern: '*.nothing' })).toEqual({ content: 'No files found.', isError: false });
    expect((await run('glob', { pattern: '*', path: 'nowhere' })).content).toBe('Folder does not exist: nowhere');
  });

  it('grep finds lines with file and line number, and explains bad patterns', async () => {
    await run('write', { path: 'grep/one.py', content: 'def Hello():\n    return 1\n' });
    await run('write', { path: 'grep/two.txt', content: 'hello there\n' });
    expect(await run('grep', { pattern: 'hello', path: 'grep' })).toEqual({
      content: 'grep/two.txt:1:hello there',
      isError: false,
    });
    const insensitive = await run('grep', { pattern: 'hello', ignore_case: true, glob: '*.py' });
    expect(insensitive).toEqual({ content: 'grep/one.py:1:def Hello():', isError: false });
    expect(await run('grep', { pattern: 'absent-text-xyz' })).toEqual({ content: 'No matches found.', isError: false });
    const bad = await run('grep', { pattern: 'a(' });
    expect(bad.isError).toBe(true);
    expect(bad.content).toContain('regex parse error');
  });
});

describe('at-most-once side effects per tool-use id', () => {
  it('bash retried with the same id appends once and returns the first result', async () => {
    const toolUseId = newToolUseId();
    const input = { command: 'echo line >> once.log; wc -l < once.log' };
    const first = await run('bash', input, toolUseId);
    const second = await run('bash', input, toolUseId);
    expect(second).toEqual(first);
    expect((await run('bash', { command: 'cat once.log' })).content).toBe('line\n');
  });

  it('a retry while the first attempt still runs waits for it instead of running again', async () => {
    const toolUseId = newToolUseId();
    const input = { command: 'sleep 1; echo ran >> slow.log; echo done' };
    const [first, second] = await Promise.all([run('bash', input, toolUseId), run('bash', input, toolUseId)]);
    expect(first).toEqual({ content: 'done\n', isError: false });
    expect(second).toEqual(first);
    expect((await run('bash', { command: 'cat slow.log' })).content).toBe('ran\n');
  });

  it('edit retried with the same id is not applied twice', async () => {
    await run('write', { path: 'twice.txt', content: 'a\n' });
    const toolUseId = newToolUseId();
    const input = { path: 'twice.txt', old_string: 'a', new_string: 'aa' };
    expect((await run('edit', input, toolUseId)).isError).toBe(false);
    expect((await run('edit', input, toolUseId)).isError).toBe(false);
    expect((await run('bash', { command: 'cat twice.txt' })).content).toBe('aa\n');
  });
});

describe('sandbox lifecycle through the activities', () => {
  it('pause, resume, snapshot and restore', async () => {
    const snapOwner = { ...owner, sessionId: `${owner.sessionId}_snap` };
    let snapLease = await activities.createSandbox({ spec, owner: snapOwner });
    await activities.runTool({
      lease: snapLease,
      toolUseId: newToolUseId(),
      name: 'write',
      input: { path: 'keep.txt', content: 'kept\n' },
      env: {},
    });
    await activities.pauseSandbox({ lease: snapLease });
    const snapshotId = await activities.snapshotSandbox({ lease: snapLease });
    await activities.resumeSandbox({ lease: snapLease });
    await activities.destroySandbox({ lease: snapLease, owner: snapOwner, deleteSnapshots: false });

    snapLease = await activities.createSandbox({ spec, owner: snapOwner, snapshotId });
    expect(snapLease.snapshotId).toBe(snapshotId);
    const read = await activities.runTool({
      lease: snapLease,
      toolUseId: newToolUseId(),
      name: 'read',
      input: { path: 'keep.txt' },
      env: {},
    });
    expect(read.content).toBe('     1\tkept');
    await activities.destroySandbox({ lease: snapLease, owner: snapOwner, deleteSnapshots: true });
    const { rows } = await pool.query('select count(*)::int as n from sandbox_snapshots where session_id = $1', [
      snapOwner.sessionId,
    ]);
    expect(rows[0]).toEqual({ n: 0 });
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${sandboxLabels.session}=${snapOwner.sessionId}`] },
    });
    expect(left).toEqual([]);
  });

  it('a killed container makes runTool fail with a non-retryable SandboxGone', async () => {
    const goneOwner = { ...owner, sessionId: `${owner.sessionId}_gone` };
    const goneLease = await activities.createSandbox({ spec, owner: goneOwner });
    await docker.getContainer(goneLease.containerId).kill();
    const error = await activities
      .runTool({ lease: goneLease, toolUseId: newToolUseId(), name: 'bash', input: { command: 'true' }, env: {} })
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: FailureType.sandboxGone, nonRetryable: true });

    await docker.getContainer(goneLease.containerId).remove({ force: true });
    await expect(
      activities.runTool({ lease: goneLease, toolUseId: newToolUseId(), name: 'read', input: { path: 'x' }, env: {} }),
    ).rejects.toMatchObject({ type: FailureType.sandboxGone });
    // The container was removed behind the sandbox's back: destroying the session still finds its volume.
    await activities.destroySandbox({ lease: goneLease, owner: goneOwner, deleteSnapshots: true });
    const { Volumes: volumes } = await docker.listVolumes({
      filters: { label: [`${sandboxLabels.session}=${goneOwner.sessionId}`] },
    });
    expect(volumes ?? []).toEqual([]);
  });
});

describe('warm pool', () => {
  it('hands out a pre-started running container, renamed for the session, and refills', async () => {
    const sandbox = new DockerSandbox(docker, { extraLabels: testRunLabels });
    const warmPool = new WarmPool(sandbox, { spec, min: 1, max: 2 });
    await warmPool.refill();
    expect(warmPool.readyCount).toBe(1);
    const pooled = await sandbox.listManaged([`${sandboxLabels.pool}=true`]);
    expect(pooled.map((info) => info.State)).toEqual(['running']);

    const warmOwner = { ...owner, sessionId: `${owner.sessionId}_warm` };
    const warmActivities = createSandboxActivities({
      docker,
      pool,
      hostQueue: 'sandbox-host-test',
      extraLabels: testRunLabels,
      warmPools: [warmPool],
    });
    const warmLease = await warmActivities.createSandbox({ spec, owner: warmOwner });
    expect(warmLease.containerId).toBe(pooled[0]?.Id);
    const outcome = await warmActivities.runTool({
      lease: warmLease,
      toolUseId: newToolUseId(),
      name: 'bash',
      input: { command: 'echo "$WHO"' },
      env: { WHO: 'session env' },
    });
    expect(outcome).toEqual({ content: 'session env\n', isError: false });
    expect(await sandbox.owner(warmLease.containerId)).toEqual(warmOwner);

    await vi.waitFor(() => expect(warmPool.readyCount).toBe(1), { timeout: 30_000, interval: 100 });
    await warmActivities.destroySandbox({ owner: warmOwner, deleteSnapshots: true });
    expect(await docker.listContainers({ all: true, filters: { id: [warmLease.containerId] } })).toEqual([]);
    await warmPool.stop();
    expect(await sandbox.listManaged([`${sandboxLabels.pool}=true`])).toEqual([]);
  });

  it('never hands out a pool container that stopped meanwhile: it is removed and the pool refills', async () => {
    const sandbox = new DockerSandbox(docker, { extraLabels: testRunLabels });
    const warmPool = new WarmPool(sandbox, { spec, min: 1, max: 1 });
    await warmPool.refill();
    const [pooled] = await sandbox.listManaged([`${sandboxLabels.pool}=true`]);
    // As a dockerd restart leaves it: stopped, its agent's socket file still in its folder.
    await docker.getContainer(pooled!.Id).kill();

    expect(await warmPool.claim({ ...owner, sessionId: `${owner.sessionId}_stopped` })).toBeUndefined();
    expect(await docker.listContainers({ all: true, filters: { id: [pooled!.Id] } })).toEqual([]);
    await vi.waitFor(() => expect(warmPool.readyCount).toBe(1), { timeout: 30_000, interval: 100 });
    await warmPool.stop();
  });
});
