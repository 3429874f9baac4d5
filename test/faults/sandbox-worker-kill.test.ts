// Durability of sandboxed side effects: SIGKILL the sandbox worker while a bash command runs in the container, start
// it again on the same host queue, and the session completes with the command's effect applied exactly once (the retried
// activity finds the first attempt's claim in the container and returns its recorded result).
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { startTestPlatform, testContainerLabels, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';

let platform: TestPlatform;
const processes: ManagedProcess[] = [];
const docker = new Docker();

beforeAll(async () => {
  // Session and model workers in-process; the sandbox worker as a process we can kill.
  platform = await startTestPlatform({ label: 'sbkill', workers: ['session', 'model'] });
});
afterAll(async () => {
  await Promise.all(processes.splice(0).map((child) => child.stop('SIGKILL')));
  await platform?.stop();
});

const startSandboxWorker = async (hostId: string) => {
  const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
  const child = await startWorkerProcess('sandbox', {
    prefix: platform.prefix,
    extraEnv: {
      AGENTS_SANDBOX_HOST_ID: hostId,
      AGENTS_SANDBOX_EXTRA_LABELS: labels.join(','),
      // The process's own warm pool and reaper run too: the pool's container is claimed by the session, the killed
      // process's refill is removed by the restarted one, the reaper must leave the live session's container alone.
      AGENTS_SANDBOX_WARM_POOL_MIN: '1',
      AGENTS_SANDBOX_REAPER_INTERVAL_MS: '500',
    },
  });
  processes.push(child);
  return child;
};

/** Containers of the session, by label or by the name a warm-pool claim gives them. */
async function sessionContainers(sessionId: string) {
  const all = await docker.listContainers({ all: true, filters: { label: ['io.temporal-agents.managed=true'] } });
  return all.filter(
    (info) =>
      info.Labels['io.temporal-agents.session'] === sessionId ||
      info.Names.some((name) => name.includes(`.${sessionId}.`)),
  );
}

const toolResults = (events: SessionEvent[]) =>
  events.flatMap((event) =>
    event.type === 'agent.tool_result' ? [(event.content ?? []).map((block) => block.text).join('')] : [],
  );

describe('sandbox worker crash', () => {
  it('SIGKILL of the sandbox worker during an exec: after a restart the side effect happened once', async () => {
    const model = `${platform.prefix}-sandbox-kill`;
    platform.fakeModel.setScript(model, [
      {
        toolCalls: [
          {
            name: 'bash',
            input: { command: 'sleep 3; echo once >> /workspace/effects.txt; wc -l < /workspace/effects.txt' },
          },
        ],
      },
      { toolCalls: [{ name: 'bash', input: { command: 'cat /workspace/effects.txt' } }] },
      { text: 'done' },
    ]);
    const hostId = `${platform.prefix}-host`;
    const sandboxWorker = await startSandboxWorker(hostId);
    const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
    const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
    await session.message('append once');
    await session.waitFor('the tool call', (events) => events.some((event) => event.type === 'agent.tool_use'));
    // The command is now sleeping inside the container; the worker that started it dies.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await sandboxWorker.stop('SIGKILL');
    await startSandboxWorker(hostId);

    // Temporal retries the activity once its heartbeat times out; the same host queue reaches the restarted worker.
    const events = await session.waitForTurnEnd(1, 110_000);
    expect(events.filter((event) => event.type === 'session.error')).toEqual([]);
    expect(toolResults(events).map((text) => text.trim())).toEqual(['1', 'once']);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);

    // One container for the session, carrying the test run's label (so the run's teardown would find it).
    const [container, ...others] = await sessionContainers(session.sessionId);
    expect(others).toEqual([]);
    expect(container?.Labels).toMatchObject({
      'io.temporal-agents.test-run': inject('testRunId'),
      'io.temporal-agents.host': hostId,
    });

    await session.terminate();
    expect(await sessionContainers(session.sessionId)).toEqual([]);
    // A clean stop removes the pool's ready container: nothing of this host is left.
    await processes.pop()?.stop('SIGTERM');
    expect(
      await docker.listContainers({ all: true, filters: { label: [`io.temporal-agents.host=${hostId}`] } }),
    ).toEqual([]);
  }, 150_000);
});
