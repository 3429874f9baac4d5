// Placement: when the Docker host holding a session's sandbox loses its worker, the next sandbox call cannot start on
// that host's queue; after the schedule-to-start timeout the session recreates the sandbox on another host from the
// last snapshot, emits an error event, and goes on.
import Docker from 'dockerode';
import type { Worker } from '@temporalio/worker';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSandboxWorkers } from '../../workers/sandbox-worker.ts';
import { startTestPlatform, testContainerLabels, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { toolResultTexts } from '../support/event-lines.ts';

let platform: TestPlatform;
let connection: NativeConnection;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'hostloss', workers: ['session', 'model'] });
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  await connection?.close();
  await platform?.stop();
});

async function startHost(hostId: string): Promise<{ workers: Worker[]; running: Promise<unknown> }> {
  const workers = await createSandboxWorkers({
    connection,
    taskQueuePrefix: platform.prefix,
    hostId,
    pool: platform.pool,
    docker: new Docker(),
    dataConverter: platform.dataConverter,
    extraLabels: testContainerLabels(),
  });
  return { workers, running: Promise.all(workers.map((worker) => worker.run())) };
}

describe('losing a sandbox host', () => {
  it('recreates the sandbox on another host from the last snapshot', { timeout: 120_000 }, async () => {
    const model = `${platform.prefix}-hostloss`;
    platform.fakeModel.setScript(model, [
      { toolCalls: [{ name: 'bash', input: { command: 'echo survived > note.txt && hostname' } }] },
      { text: 'written' },
      { toolCalls: [{ name: 'bash', input: { command: 'cat note.txt' } }] },
      { text: 'read' },
    ]);
    const hostA = await startHost('host-a');
    const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
    const session = await new WorkflowSession(
      platform,
      agent,
      fastSettings(platform.prefix, { sandboxHostTimeoutMs: 3_000, idlePauseMs: 500, idleSnapshotMs: 600_000 }),
    ).start();
    await session.message('write a note');
    await session.waitForTurnEnd(1);
    // The session pauses its idle sandbox only after the end-of-turn snapshot: once paused, lose host A for good.
    for (let i = 0; i < 400 && (await session.state()).sandbox.state !== 'paused'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await session.state()).sandbox).toMatchObject({
      state: 'paused',
      hostQueue: expect.stringMatching(/host-a$/),
    });
    for (const worker of hostA.workers) worker.shutdown();
    await hostA.running;
    const hostB = await startHost('host-b');

    await session.message('read the note');
    const events = await session.waitForTurnEnd(2, 90_000);
    const errors = events.filter((event) => event.type === 'session.error');
    expect(errors).toMatchObject([{ error: { type: 'sandbox_lost_error', retry_status: { type: 'retrying' } } }]);
    const results = toolResultTexts(events);
    expect(results.at(-1)).toBe('survived');
    expect((await session.state()).sandbox.hostQueue).toMatch(/host-b$/);

    await session.terminate('deleted');
    for (const worker of hostB.workers) worker.shutdown();
    await hostB.running;
  });
});
