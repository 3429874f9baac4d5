// The in-sandbox exec agent (scripts/sandbox-image/sandbox-agent) as the default exec path: commands run under it,
// at-most-once holds across the agent and the docker exec fallback (each honours the other's claims), output streams,
// a stopped agent or a paused container falls back to docker exec, and the agent listens on nothing but its own socket.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rmdir, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultSandboxSpec, type SandboxSpec } from '../../domain/sandbox.ts';
import { DockerSandbox } from '../../activities/sandbox/docker-sandbox.ts';
import { agentDirLabel } from '../../activities/sandbox/agent-host.ts';
import { sandboxLabels } from '../../activities/sandbox/container-spec.ts';
import { runProcess } from '../../activities/sandbox/docker-stream.ts';
import { execCommand } from '../../activities/sandbox/exec.ts';

const docker = new Docker();
// Its own label too: afterAll removes what it lists, and other files of the same run may have containers up.
const testRunLabels = {
  [sandboxLabels.managed]: 'true',
  'io.temporal-agents.test-run': inject('testRunId'),
  'io.temporal-agents.test-file': 'sandbox-agent',
};
const spec: SandboxSpec = { ...defaultSandboxSpec(inject('sandboxImage')), memoryMb: 256, pidsLimit: 128 };
const owner = { tenantId: 'tnt_agent', sessionId: `sesn_agent_${randomBytes(3).toString('hex')}` };

let sandbox: DockerSandbox;
let containerId: string;

const sh = (command: string, options: { execId?: string; timeoutMs?: number } = {}) =>
  sandbox.exec(containerId, { command, timeoutMs: options.timeoutMs ?? 10_000, maxOutputBytes: 10_000, ...options });
/** The same exec through `docker exec` only (the fallback path), as a worker without the agent would run it. */
const viaDockerExec = (id: string, command: string, execId?: string) =>
  execCommand(docker.getContainer(id), { command, timeoutMs: 10_000, maxOutputBytes: 10_000, execId });
const newExecId = () => `toolu_${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  sandbox = new DockerSandbox(docker, { extraLabels: testRunLabels });
  containerId = await sandbox.create(spec, owner);
});

afterAll(async () => {
  const containers = await sandbox.listManaged([]);
  await Promise.all(containers.map((info) => sandbox.destroy(info.Id)));
});

describe('the exec agent', () => {
  it('runs commands as the sandbox user, without capabilities, under the agent', async () => {
    const result = await sh('id -u; grep CapEff /proc/self/status; tr "\\0" " " < /proc/$PPID/cmdline');
    expect(result.output).toMatch(/^1000\nCapEff:\s+0000000000000000\n/);
    expect(result.output).toContain('/opt/agents/sandbox-agent');
  });

  it('runs a command once per exec id, whichever path tries first', async () => {
    const first = newExecId();
    const count = (id: string) => `echo run >> /tmp/${id}.count; wc -l < /tmp/${id}.count`;
    expect((await sh(count(first), { execId: first })).output).toBe('1\n');
    expect((await viaDockerExec(containerId, count(first), first)).output).toBe('1\n');
    expect((await sh(count(first), { execId: first })).output).toBe('1\n');

    const second = newExecId();
    expect((await viaDockerExec(containerId, count(second), second)).output).toBe('1\n');
    expect((await sh(count(second), { execId: second })).output).toBe('1\n');

    const third = newExecId();
    const concurrent = await Promise.all([
      sh(`sleep 0.3; ${count(third)}`, { execId: third }),
      sh(`sleep 0.3; ${count(third)}`, { execId: third }),
      viaDockerExec(containerId, `sleep 0.3; ${count(third)}`, third),
    ]);
    expect(concurrent.map((result) => result.output)).toEqual(['1\n', '1\n', '1\n']);
  });

  it('streams output while the command runs', async () => {
    const chunks: string[] = [];
    let sawFirstBeforeEnd = false;
    const result = await sandbox.exec(containerId, {
      command: 'echo one; sleep 0.5; echo two',
      timeoutMs: 10_000,
      maxOutputBytes: 10_000,
      onOutput: (chunk) => {
        chunks.push(chunk.toString());
        if (chunks.length === 1) sawFirstBeforeEnd = !chunks[0]?.includes('two');
      },
    });
    expect(result.output).toBe('one\ntwo\n');
    expect(chunks.join('')).toBe('one\ntwo\n');
    expect(sawFirstBeforeEnd).toBe(true);
  });

  it('runs the tools’ helper processes with stdin, stdout and stderr apart', async () => {
    const result = await sandbox.runProcess(containerId, {
      argv: ['bash', '-c', 'cat; echo err >&2; exit 4'],
      stdin: Buffer.from('in'),
      maxBytes: 100,
    });
    expect(result).toMatchObject({ exitCode: 4, stdoutTruncated: false });
    expect(result.stdout.toString()).toBe('in');
    expect(result.stderr.toString()).toBe('err\n');
  });

  it('listens on no TCP port and sees only its own folder', async () => {
    // /proc/net/tcp{,6}: state 0A is LISTEN.
    const listening = await sh('cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk \'$4 == "0A"\' | wc -l');
    expect(listening.output.trim()).toBe('0');
    expect((await sh('ls -A /run/sandbox-agent')).output).toBe('agent.sock\n');
  });

  it('survives a fork bomb and a memory hog (the commands are the OOM killer’s first choice), and stops them', async () => {
    const agentPid = async () => (await sh('echo $PPID')).output;
    const before = await agentPid();
    const bomb = await sh(':(){ :|:& };:', { timeoutMs: 3_000 });
    expect(bomb.exitCode === 0 && !bomb.timedOut && !bomb.backgroundStopped).toBe(false);
    const hog = await sh(`python3 -c "a = ['x' * 1048576 for _ in range(2048)]"`);
    expect(hog.exitCode).toBe(137);
    expect(await agentPid()).toBe(before);
    expect((await sh('pgrep -c bash || true')).output.trim()).toBe('1');
  });

  it('falls back to docker exec when the container is paused, and answers again after', async () => {
    await sandbox.pause(containerId);
    expect(await sh('echo back')).toMatchObject({ exitCode: 0, output: 'back\n' });
    expect((await sh('tr "\\0" " " < /proc/$PPID/cmdline')).output).toContain('sandbox-agent');
  });

  it('reports an exec whose agent died mid-run as interrupted, and falls back to docker exec after', async () => {
    const id = await sandbox.create(spec, { ...owner, sessionId: `${owner.sessionId}_stop` });
    const execId = newExecId();
    const running = sandbox.exec(id, { command: 'sleep 30', timeoutMs: 60_000, maxOutputBytes: 100, execId });
    running.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const kill = await runProcess(docker.getContainer(id), {
      argv: ['pkill', '-KILL', '-f', '^/usr/bin/python3 -IS /opt/agents/sandbox-agent'],
      maxBytes: 100,
    });
    expect(kill.exitCode).toBe(0);
    await expect(running).rejects.toThrow();
    const info = await docker.getContainer(id).inspect();
    const agentDir = info.Config.Labels[agentDirLabel] ?? '';
    for (let i = 0; i < 100 && !existsSync(`${agentDir}/stopped`); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(`${agentDir}/stopped`)).toBe(true);

    const retried = await sandbox.exec(id, { command: 'sleep 30', timeoutMs: 60_000, maxOutputBytes: 1000, execId });
    expect(retried).toMatchObject({ exitCode: -1 });
    expect(retried.output).toContain('interrupted');
    const after = await sandbox.exec(id, {
      command: 'echo fine; ps -o comm= -p $PPID',
      timeoutMs: 10_000,
      maxOutputBytes: 100,
    });
    expect(after.output).toMatch(/^fine\n/);
    expect(after.output).not.toContain('python');
    await sandbox.destroy(id);
    expect(existsSync(agentDir)).toBe(false);
  });

  it('the reaper removes agent folders no container names any more, once they are old', async () => {
    const info = await docker.getContainer(containerId).inspect();
    const live = info.Config.Labels[agentDirLabel] ?? '';
    const root = dirname(live);
    const orphan = join(root, `orphan-${randomBytes(4).toString('hex')}`);
    const young = join(root, `young-${randomBytes(4).toString('hex')}`);
    await mkdir(orphan);
    await mkdir(young);
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60_000);
    await utimes(orphan, twoHoursAgo, twoHoursAgo);
    await utimes(live, twoHoursAgo, twoHoursAgo);
    await sandbox.removeContainersWhere(() => false);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(young)).toBe(true);
    await rmdir(young);
    expect(existsSync(live)).toBe(true);
    expect((await sh('echo still')).output).toBe('still\n');
  });
});
