// The sandbox provider on a real Docker engine: lock-down (user, capabilities, read-only root, no network), runaway
// commands contained (fork bomb, memory hog, endless loop), output caps and timeouts, files, pause and snapshots.
import { createHash, randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultSandboxSpec, type SandboxOwner, type SandboxSpec } from '../../domain/sandbox.ts';
import { DockerSandbox } from '../../activities/sandbox/docker-sandbox.ts';
import { sandboxLabels } from '../../activities/sandbox/container-spec.ts';
import { SandboxPathError } from '../../activities/sandbox/files.ts';
import { SnapshotStore } from '../../activities/sandbox/snapshot-store.ts';
import { runSandboxTool } from '../../activities/sandbox/tools.ts';

const docker = new Docker();
// Its own label too: afterAll removes every container it lists, and other files of the same run (the warm pool in
// sandbox-tools.test.ts) have theirs up meanwhile.
const testRunLabels = {
  [sandboxLabels.managed]: 'true',
  'io.temporal-agents.test-run': inject('testRunId'),
  'io.temporal-agents.test-file': 'sandbox-containment',
};
const spec: SandboxSpec = { ...defaultSandboxSpec(inject('sandboxImage')), memoryMb: 256, pidsLimit: 128, cpus: 0.5 };
const owner: SandboxOwner = {
  tenantId: 'tnt_containment',
  sessionId: `sesn_containment_${randomBytes(3).toString('hex')}`,
};

let pool: pg.Pool;
let sandbox: DockerSandbox;
let containerId: string;

const sh = (command: string, timeoutMs = 10_000, maxOutputBytes = 30_000) =>
  sandbox.exec(containerId, { command, timeoutMs, maxOutputBytes });

const tool = (name: string, input: Record<string, unknown>) =>
  runSandboxTool({ sandbox, containerId, toolUseId: `toolu_${randomBytes(6).toString('hex')}`, env: {} }, name, input);

/** sha256 over every path's type, mode, size and content hash under /workspace: equal digests mean equal trees. */
async function workspaceDigest(id: string): Promise<string> {
  const result = await sandbox.exec(id, {
    command:
      "cd /workspace && find . -printf '%p %y %m %s %l\\n' | LC_ALL=C sort && " +
      'find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum',
    timeoutMs: 10_000,
    maxOutputBytes: 200_000,
  });
  expect(result.exitCode).toBe(0);
  return createHash('sha256').update(result.output).digest('hex');
}

async function populateWorkspace(id: string): Promise<void> {
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, index) => index % 256));
  await sandbox.writeFile(id, 'bin/data.bin', binary);
  await sandbox.writeFile(id, 'bin/run.sh', Buffer.from('#!/bin/sh\necho run\n'), 0o755);
  await sandbox.writeFile(id, 'deep/a/b/c/note.txt', Buffer.from('nested\n'));
  const setup = await sandbox.exec(id, {
    command: 'mkdir -p empty private && chmod 700 private && echo secret > private/s && ln -s bin/run.sh link',
    timeoutMs: 10_000,
    maxOutputBytes: 10_000,
  });
  expect(setup.exitCode).toBe(0);
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  sandbox = new DockerSandbox(docker, { snapshots: new SnapshotStore(pool), extraLabels: testRunLabels });
  containerId = await sandbox.create(spec, owner);
});

afterAll(async () => {
  const containers = await sandbox.listManaged([]);
  await Promise.all(containers.map((info) => sandbox.destroy(info.Id)));
  const volumes = await docker.listVolumes({
    filters: { label: Object.entries(testRunLabels).map(([key, value]) => `${key}=${value}`) },
  });
  await Promise.all(
    (volumes.Volumes ?? []).map((volume) =>
      docker
        .getVolume(volume.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
  await pool.end();
});

describe('sandbox lock-down', () => {
  it('runs as uid 1000 with no capabilities and no new privileges', async () => {
    const result = await sh('id -u; id -g; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status');
    expect(result.output).toMatch(/^1000\n1000\n/);
    expect(result.output).toMatch(/CapEff:\s+0000000000000000/);
    expect(result.output).toMatch(/NoNewPrivs:\s+1/);
  });

  it('labels the container with its owner and the extra labels', async () => {
    const info = await docker.getContainer(containerId).inspect();
    expect(info.Config.Labels).toMatchObject({
      ...testRunLabels,
      [sandboxLabels.tenant]: owner.tenantId,
      [sandboxLabels.session]: owner.sessionId,
    });
    expect(info.HostConfig).toMatchObject({ ReadonlyRootfs: true, NetworkMode: 'none', Init: true, PidsLimit: 128 });
  });

  it('cannot write outside /workspace and /tmp', async () => {
    const result = await sh(
      'for p in /etc/x /usr/x /x /home/agent/x; do touch "$p" 2>/dev/null && echo "wrote $p"; done',
    );
    expect(result.output).not.toContain('wrote');
    const inside = await sh('touch /workspace/ok /tmp/ok && echo both');
    expect(inside.output).toContain('both');
    await expect(sandbox.writeFile(containerId, '/etc/passwd', Buffer.from('x'))).rejects.toThrow(SandboxPathError);
    const outcome = await tool('write', { path: '/usr/local/bin/evil', content: 'x' });
    expect(outcome).toMatchObject({ isError: true });
    expect(outcome.content).toContain('read-only');
  });

  it('has no outbound network', async () => {
    const result = await sh('curl -sS -m 3 http://1.1.1.1/ && echo reached; ls /sys/class/net');
    expect(result.output).not.toContain('reached');
    expect(result.output.trim().split('\n').at(-1)).toBe('lo');
  });
});

describe('runaway commands are contained and reported as tool errors', () => {
  it('a fork bomb', async () => {
    const outcome = await tool('bash', { command: ':(){ :|:& };:', timeout_ms: 5_000 });
    expect(outcome.isError).toBe(true);
    expect(await sh('echo alive')).toMatchObject({ exitCode: 0, output: 'alive\n' });
  });

  it('a memory hog', async () => {
    const outcome = await tool('bash', { command: `python3 -c "a = ['x' * 1048576 for _ in range(2048)]"` });
    expect(outcome.isError).toBe(true);
    expect(outcome.content).toContain('memory limit');
    expect(await sh('echo alive')).toMatchObject({ exitCode: 0, output: 'alive\n' });
  });

  it('an endless loop', async () => {
    const outcome = await tool('bash', { command: 'while :; do :; done', timeout_ms: 1_500 });
    expect(outcome).toMatchObject({ isError: true });
    expect(outcome.content).toContain('timed out after 1500 ms');
  });

  it('leaves other sandboxes working', async () => {
    const other = await sandbox.create(spec, { ...owner, sessionId: `${owner.sessionId}_other` });
    const result = await sandbox.exec(other, { command: 'echo fine', timeoutMs: 10_000, maxOutputBytes: 1000 });
    expect(result).toMatchObject({ exitCode: 0, output: 'fine\n' });
    await sandbox.destroy(other);
  });
});

describe('exec', () => {
  it('combines stdout and stderr in order and returns the exit code', async () => {
    const result = await sh('echo out; echo err >&2; echo out2; exit 3');
    expect(result).toMatchObject({ exitCode: 3, output: 'out\nerr\nout2\n', truncated: false, timedOut: false });
  });

  it('caps output, keeping head and tail around a truncation marker', async () => {
    const result = await sh('seq 1 100000', 10_000, 1_000);
    expect(result.truncated).toBe(true);
    expect(result.output).toMatch(/^1\n2\n3\n/);
    expect(result.output).toMatch(/100000\n$/);
    expect(result.output).toContain('[... output truncated');
    expect(result.output.length).toBeLessThan(1_200);
  });

  it('kills the whole process tree on timeout', async () => {
    const result = await sh('sleep 300 & (sleep 301 & wait) & sleep 302', 1_500);
    expect(result).toMatchObject({ timedOut: true });
    const left = await sh("pgrep -c -f 'sleep 30[0-2]' || true");
    expect(left.output.trim()).toBe('0');
  });

  it('stops background processes that hold the output open, and says so', async () => {
    const result = await sh('sleep 300 & echo started');
    expect(result.output).toContain('started');
    expect(result.output).toContain('were stopped');
    expect((await sh("pgrep -c -f 'sleep 30[0-2]' || true")).output.trim()).toBe('0');
  });
});

describe('files', () => {
  it('writes, reads and lists files in /workspace and /tmp', async () => {
    await sandbox.writeFile(containerId, 'files/hello.txt', Buffer.from('hello\n'));
    await sandbox.writeFile(containerId, '/tmp/scratch/t.txt', Buffer.from('tmp\n'));
    expect((await sandbox.readFile(containerId, 'files/hello.txt')).toString()).toBe('hello\n');
    expect((await sandbox.readFile(containerId, '/tmp/scratch/t.txt')).toString()).toBe('tmp\n');
    const entries = await sandbox.list(containerId, 'files');
    expect(entries).toEqual([{ path: 'hello.txt', type: 'file', mode: 0o644, size: 6 }]);
    const owners = await sh('stat -c %u:%g /workspace/files/hello.txt');
    expect(owners.output.trim()).toBe('1000:1000');
    await expect(sandbox.readFile(containerId, 'files/missing.txt')).rejects.toThrow('File does not exist');
  });
});

describe('pause and snapshots', () => {
  it('pause then unpause keeps /workspace byte for byte', async () => {
    const id = await sandbox.create(spec, { ...owner, sessionId: `${owner.sessionId}_pause` });
    await populateWorkspace(id);
    const before = await workspaceDigest(id);
    await sandbox.pause(id);
    expect((await docker.getContainer(id).inspect()).State.Paused).toBe(true);
    await sandbox.unpause(id);
    expect(await workspaceDigest(id)).toBe(before);
    await sandbox.destroy(id);
  });

  it('snapshot, destroy, restore keeps /workspace byte for byte (binary files, modes, nested folders)', async () => {
    const snapshotOwner = { ...owner, sessionId: `${owner.sessionId}_snap` };
    const id = await sandbox.create(spec, snapshotOwner);
    await populateWorkspace(id);
    const before = await workspaceDigest(id);
    await sandbox.pause(id); // snapshots are taken of idle (paused) sandboxes
    const snapshotId = await sandbox.snapshot(id);
    await sandbox.destroy(id);
    expect(await docker.listContainers({ all: true, filters: { id: [id] } })).toEqual([]);

    const restored = await sandbox.restore(spec, snapshotOwner, snapshotId);
    expect(await workspaceDigest(restored)).toBe(before);
    const run = await sandbox.exec(restored, {
      command: './link && cat private/s',
      timeoutMs: 5_000,
      maxOutputBytes: 100,
    });
    expect(run.output).toBe('run\nsecret\n');
    await expect(sandbox.restore(spec, { ...snapshotOwner, tenantId: 'tnt_other' }, snapshotId)).rejects.toThrow(
      'not found',
    );
    await sandbox.destroy(restored, { deleteSnapshots: true });
    expect(await new SnapshotStore(pool).idsForSession(snapshotOwner)).toEqual([]);
  });
});

describe('reaper', () => {
  it('removes containers whose session is gone, and their volumes', async () => {
    const goneOwner = { ...owner, sessionId: `${owner.sessionId}_gone` };
    const gone = await sandbox.create(spec, goneOwner);
    const volume = (await docker.getContainer(gone).inspect()).Config.Labels[sandboxLabels.volume] ?? '';
    const removed = await sandbox.removeContainersWhere((sessionId) => sessionId === goneOwner.sessionId);
    expect(removed).toEqual([gone]);
    expect(await docker.listContainers({ all: true, filters: { id: [gone] } })).toEqual([]);
    await expect(docker.getVolume(volume).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await docker.getContainer(containerId).inspect()).State.Running).toBe(true);
  });
});
