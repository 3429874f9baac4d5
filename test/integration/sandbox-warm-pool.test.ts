// The sandbox host around its workers: a session's first sandboxed tool call claims a running container from the warm
// pool (which refills), the reaper removes the container of a session whose workflow was terminated behind its back and
// keeps a live one, pool containers left by a killed worker are removed at start, and shutdown empties the pool.
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DockerSandbox } from '../../activities/sandbox/docker-sandbox.ts';
import { sandboxLabels } from '../../activities/sandbox/container-spec.ts';
import { removeStalePoolContainers, WarmPool } from '../../activities/sandbox/warm-pool.ts';
import { defaultSandboxSpec, hostLabel } from '../../domain/sandbox.ts';
import { createSandboxHost, type SandboxHost } from '../../workers/sandbox-worker.ts';
import { startTestPlatform, testContainerLabels, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { NativeConnection } from '@temporalio/worker';

let platform: TestPlatform;
let nativeConnection: NativeConnection;
let host: SandboxHost;
let hostRun: Promise<void>;
let hostId: string;
const docker = new Docker();
const spec = defaultSandboxSpec(inject('sandboxImage'));

beforeAll(async () => {
  platform = await startTestPlatform({ label: 'warm', workers: ['session', 'model'] });
  hostId = `${platform.prefix}-host`;
  nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  host = await createSandboxHost({
    connection: nativeConnection,
    taskQueuePrefix: platform.prefix,
    hostId,
    pool: platform.pool,
    docker,
    dataConverter: platform.dataConverter,
    extraLabels: testContainerLabels(),
    warmPools: [{ spec, min: 1, max: 2 }],
    reaper: { client: platform.client, intervalMs: 300 },
  });
  hostRun = host.run();
});
afterAll(async () => {
  for (const worker of host?.workers ?? []) if (worker.getState() === 'RUNNING') worker.shutdown();
  await hostRun;
  await nativeConnection?.close();
  await platform?.stop();
});

/** This host's containers, by the name a claim gives them (a claimed pool container has no session label). */
async function containersOf(sessionId: string) {
  const all = await docker.listContainers({ all: true, filters: { label: [`${hostLabel}=${hostId}`] } });
  return all.filter(
    (info) =>
      info.Names.some((name) => name.includes(`.${sessionId}.`)) || info.Labels[sandboxLabels.session] === sessionId,
  );
}

const poolContainers = async () =>
  docker.listContainers({
    all: true,
    filters: { label: [`${hostLabel}=${hostId}`, `${sandboxLabels.pool}=true`] },
  });

async function sessionWithBash(command: string): Promise<WorkflowSession> {
  const model = `${platform.prefix}-${Math.random().toString(36).slice(2, 8)}`;
  platform.fakeModel.setScript(model, [{ toolCalls: [{ name: 'bash', input: { command } }] }, { text: 'done' }]);
  const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
  const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
  await session.message('go');
  await session.waitForTurnEnd(1);
  return session;
}

describe('sandbox host: warm pool and reaper', () => {
  it('claims a warm container for the first sandboxed call, then refills the pool', async () => {
    await vi.waitFor(() => expect(host.warmPools[0]?.readyCount).toBe(1), { timeout: 30_000, interval: 100 });
    const [warm] = await poolContainers();
    expect(warm?.State).toBe('running');

    const session = await sessionWithBash('echo warm > proof.txt; cat proof.txt');
    const events = await session.events();
    const result = events.find((event) => event.type === 'agent.tool_result');
    expect(result).toMatchObject({ is_error: false, content: [{ text: 'warm\n' }] });
    const [claimed, ...others] = await containersOf(session.sessionId);
    expect(others).toEqual([]);
    expect(claimed?.Id).toBe(warm?.Id);
    expect(claimed?.Labels).toMatchObject({ 'io.temporal-agents.test-run': inject('testRunId') });

    await vi.waitFor(() => expect(host.warmPools[0]?.readyCount).toBe(1), { timeout: 30_000, interval: 100 });
    await session.terminate();
    expect(await containersOf(session.sessionId)).toEqual([]);
  });

  it('reaps the container of a terminated session and keeps a live one', async () => {
    const live = await sessionWithBash('echo live');
    const killed = await sessionWithBash('echo killed');
    expect(await containersOf(live.sessionId)).toHaveLength(1);
    expect(await containersOf(killed.sessionId)).toHaveLength(1);

    // Terminated from outside (as `temporal workflow terminate` would): the session never removes its sandbox itself.
    await killed.handle.terminate('test: terminated behind the session');
    await vi.waitFor(async () => expect(await containersOf(killed.sessionId)).toEqual([]), {
      timeout: 30_000,
      interval: 200,
    });
    // Several more sweeps have run by now; the live session's container is still there.
    await host.reaper?.sweep();
    expect(await containersOf(live.sessionId)).toHaveLength(1);
    await live.terminate();
  });

  it('removes unclaimed pool containers an earlier worker process left behind', async () => {
    // A pool of a "previous process" on another host id, so this test's live pool is left alone.
    const staleHost = `${hostId}-stale`;
    const sandbox = new DockerSandbox(docker, { extraLabels: { ...testContainerLabels(), [hostLabel]: staleHost } });
    const orphanPool = new WarmPool(sandbox, { spec, min: 1, max: 1 });
    await orphanPool.refill();
    expect(await sandbox.listManaged([`${sandboxLabels.pool}=true`])).toHaveLength(1);
    expect(await removeStalePoolContainers(sandbox)).toBe(1);
    expect(await sandbox.listManaged([`${sandboxLabels.pool}=true`])).toEqual([]);
  });

  it('removes the pool on shutdown', async () => {
    expect(await poolContainers()).not.toEqual([]);
    for (const worker of host.workers) worker.shutdown();
    await hostRun;
    expect(await poolContainers()).toEqual([]);
  });
});
