// The sandbox as the session holds it: created at the first sandboxed tool call, paused when idle, snapshotted and
// removed when idle longer, restored on the next call with /workspace intact; a container killed mid-session is
// recreated from the last snapshot and the session goes on with an error event; deleting the session removes it all.
// An invalid tool call is answered with an error result before any container exists.
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { recordHistory } from '../support/histories.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { toolResultTexts } from '../support/event-lines.ts';

let platform: TestPlatform;
const docker = new Docker();
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'lifecycle', workers: ['session', 'model', 'sandbox'] });
});
afterAll(async () => {
  await platform?.stop();
});

async function sessionContainers(sessionId: string) {
  return docker.listContainers({ all: true, filters: { label: [`io.temporal-agents.session=${sessionId}`] } });
}

async function waitForSandboxState(session: WorkflowSession, state: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await session.state()).sandbox.state === state) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sandbox never reached ${state}; now ${(await session.state()).sandbox.state}`);
}

describe('sandbox lifecycle in a session', () => {
  it('lazily creates, pauses, snapshots and removes, restores, survives a killed container, and cleans up', async () => {
    const model = `${platform.prefix}-lifecycle`;
    const bash = (command: string) => ({ toolCalls: [{ name: 'bash', input: { command } }] });
    platform.fakeModel.setScript(model, [
      { text: 'no tools needed' },
      bash('echo one > state.txt && cat state.txt'),
      { text: 'wrote it' },
      bash('cat state.txt && echo two >> state.txt'),
      { text: 'restored' },
      bash('cat state.txt'),
      { text: 'recovered' },
    ]);
    const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
    const session = await new WorkflowSession(
      platform,
      agent,
      fastSettings(platform.prefix, { idlePauseMs: 1_000, idleSnapshotMs: 2_500 }),
    ).start();

    // No sandboxed tool yet: no container.
    await session.message('just talk');
    await session.waitForTurnEnd(1);
    expect((await session.state()).sandbox.state).toBe('none');
    expect(await sessionContainers(session.sessionId)).toHaveLength(0);

    // First bash call creates it.
    await session.message('write state');
    await session.waitForTurnEnd(2);
    expect(await sessionContainers(session.sessionId)).toHaveLength(1);

    // Idle: paused, then snapshotted and removed.
    await waitForSandboxState(session, 'paused');
    expect((await sessionContainers(session.sessionId))[0]?.State).toBe('paused');
    await waitForSandboxState(session, 'snapshotted');
    expect(await sessionContainers(session.sessionId)).toHaveLength(0);

    // The next call restores /workspace from the snapshot.
    await session.message('read state');
    await session.waitForTurnEnd(3);
    expect(toolResultTexts(await session.events()).at(-1)).toBe('one');

    // A container killed mid-session: recreated from the last snapshot, taken at the end of the last turn (the
    // session pauses the sandbox only after that snapshot, so "paused" means it is done).
    await waitForSandboxState(session, 'paused');
    const [container] = await sessionContainers(session.sessionId);
    await docker.getContainer(container!.Id).remove({ force: true });
    await session.message('read again');
    const events = await session.waitForTurnEnd(4);
    expect(toolResultTexts(events).at(-1)).toBe('one\ntwo');
    expect(events.filter((event) => event.type === 'session.error')).toMatchObject([
      { error: { type: 'sandbox_lost_error', retry_status: { type: 'retrying' } } },
    ]);

    await session.terminate('deleted');
    expect(await sessionContainers(session.sessionId)).toHaveLength(0);
    const { rows } = await platform.pool.query(
      'select count(*)::int as n from sandbox_snapshots where session_id = $1',
      [session.sessionId],
    );
    expect(rows[0]).toEqual({ n: 0 });
    await recordHistory(platform.client, sessionWorkflowId(session.sessionId), 'sandbox-lifecycle');
  });

  it('answers an invalid sandbox tool call with an error result, without creating a container', async () => {
    const model = `${platform.prefix}-invalid-input`;
    platform.fakeModel.setScript(model, [
      { toolCalls: [{ name: 'edit', input: { path: 'a.ts', new_string: 'x' } }] },
      { text: 'I will fix the call.' },
    ]);
    const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
    const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
    await session.message('edit a file');
    const events = await session.waitForTurnEnd(1);
    const sandboxState = (await session.state()).sandbox.state;
    const containers = await sessionContainers(session.sessionId);
    await session.terminate('deleted');
    await recordHistory(platform.client, sessionWorkflowId(session.sessionId), 'invalid-tool-input');

    expect(events.filter((event) => event.type === 'agent.tool_result')).toMatchObject([{ is_error: true }]);
    expect(toolResultTexts(events)).toEqual([
      'Invalid input for edit: old_string: Invalid input: expected string, received undefined.',
    ]);
    expect(sandboxState).toBe('none');
    expect(containers).toHaveLength(0);
  });

  it("runs the session's tools in an image with the environment's packages", { timeout: 300_000 }, async () => {
    const model = `${platform.prefix}-packages`;
    platform.fakeModel.setScript(model, [
      {
        toolCalls: [
          {
            name: 'bash',
            input: { command: 'tree --version | cut -c1-4; python3 -c "import six; print(six.__name__)"' },
          },
        ],
      },
      { text: 'done' },
    ]);
    const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
    const driver = new WorkflowSession(platform, agent, fastSettings(platform.prefix));
    driver.environmentPackages = { apt: ['tree'], pip: ['six'] };
    const session = await driver.start();
    await session.message('check the packages');
    const events = await session.waitForTurnEnd(1, 240_000);
    expect(toolResultTexts(events)).toEqual(['tree\nsix']);
    await session.terminate('deleted');
  });

  it('continues-as-new between turns, carrying the lease, the event sequence and usage', async () => {
    const model = `${platform.prefix}-can`;
    platform.fakeModel.setScript(model, [
      { toolCalls: [{ name: 'bash', input: { command: 'echo kept > kept.txt' } }] },
      { text: 'one' },
      { text: 'two' },
      { toolCalls: [{ name: 'bash', input: { command: 'cat kept.txt' } }] },
      { text: 'three' },
    ]);
    const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
    const session = await new WorkflowSession(
      platform,
      agent,
      fastSettings(platform.prefix, { continueAsNewEveryTurns: 1 }),
    ).start();
    for (let turn = 1; turn <= 3; turn++) {
      await session.message(`turn ${turn}`);
      await session.waitForTurnEnd(turn);
    }
    const events = await session.events();
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    expect(toolResultTexts(events).at(-1)).toBe('kept');
    const state = await session.state();
    expect(state.stats.turns).toBe(3);
    expect(state.lastSeq).toBe(events.length);
    const runs = [];
    for await (const run of platform.client.workflow.list({
      query: `WorkflowId = '${sessionWorkflowId(session.sessionId)}'`,
    })) {
      runs.push(run);
    }
    expect(runs.length).toBeGreaterThanOrEqual(3);
    // A termination that arrives while the run is continuing-as-new is not lost with the old run.
    await session.terminate('deleted');
    await recordHistory(platform.client, sessionWorkflowId(session.sessionId), 'continue-as-new');
  });
});
