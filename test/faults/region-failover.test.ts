// Fault injection: a whole region goes away. Two simulated regions on this machine, each a fleet of its own — session,
// model and sandbox worker processes and a private Docker engine in its own network namespace — share the run's
// Temporal server and PostgreSQL (the snapshot store). Sessions placed in region A write a workspace file; while each
// runs a tool, every process of region A and its Docker engine are SIGKILLed. Region B's session worker adopts A's
// session queue once A's heartbeats go stale; each session notices its sandbox host is gone (schedule-to-start
// timeout), finds region A has no live sandbox worker, moves to region B (a `region_failover_error`), restores its
// workspace from the last snapshot there, finishes the turn — the file is there — and continues as new on B's
// session queue. FAULTS_REGION_SESSIONS (default 2) sessions; FAULTS_RESULTS=1 writes bench/results.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { writeResult } from '../../bench/support/results.ts';
import { placedQueue, taskQueues } from '../../domain/task-queues.ts';
import { startTestPlatform, testContainerLabels, type TestPlatform } from '../support/platform.ts';
import { PrivateDockerd } from '../support/private-dockerd.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { startWorkerProcess, type WorkerFamily } from '../support/worker-processes.ts';
import { toolResultTexts } from '../support/event-lines.ts';
import { recordHistory } from '../support/histories.ts';

const sessionCount = Number(process.env.FAULTS_REGION_SESSIONS ?? '2');
const writeResults = process.env.FAULTS_RESULTS === '1';
// Region names of this run's own: other test files share the database's heartbeat table.
const regionA = `ra${process.pid}`;
const regionB = `rb${process.pid}`;
const heartbeatMs = 1_000;
const staleMs = 4_000;

interface Region {
  name: string;
  dockerd: PrivateDockerd;
  processes: ManagedProcess[];
}

let platform: TestPlatform;
const regions: Region[] = [];

async function startRegion(name: string): Promise<Region> {
  const dockerd = await PrivateDockerd.start(`region-${name}`);
  const region: Region = { name, dockerd, processes: [] };
  regions.push(region);
  await dockerd.loadImage(inject('sandboxImage'));
  const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
  const extraEnv = {
    AGENTS_REGION: name,
    AGENTS_REGIONS: `${regionA},${regionB}`,
    AGENTS_REGION_HEARTBEAT_MS: String(heartbeatMs),
    AGENTS_REGION_STALE_MS: String(staleMs),
    DOCKER_HOST: dockerd.dockerHost,
    AGENTS_SANDBOX_HOST_ID: `host-${name}`,
    AGENTS_SANDBOX_EXTRA_LABELS: labels.join(','),
  };
  for (const family of ['sandbox', 'model', 'session'] satisfies WorkerFamily[]) {
    region.processes.push(
      await startWorkerProcess(family, { prefix: platform.prefix, fakeModelUrl: platform.fakeModel.url, extraEnv }),
    );
  }
  return region;
}

beforeAll(async () => {
  // No worker runs in the test process: every worker belongs to one of the two regions.
  platform = await startTestPlatform({ label: 'region', workers: [] });
  await startRegion(regionA);
  await startRegion(regionB);
}, 240_000);
afterAll(async () => {
  for (const region of regions) await Promise.all(region.processes.map((child) => child.stop('SIGKILL')));
  await platform?.stop();
  for (const region of regions) await region.dockerd.cleanup();
});

const containersOf = (region: Region, sessionId: string) =>
  region.dockerd.docker.listContainers({ all: true, filters: { label: [`io.temporal-agents.session=${sessionId}`] } });

interface SessionRun {
  session: WorkflowSession;
  token: string;
  /** The journal's last seq before the kill: the first event after it is the session's recovery. */
  seqBeforeKill: number;
}

async function startSession(index: number): Promise<SessionRun> {
  const model = `${platform.prefix}-region-${index}`;
  const token = `kept-${index}-${process.pid}`;
  const bash = (command: string) => ({ toolCalls: [{ name: 'bash', input: { command } }] });
  platform.fakeModel.setScript(model, [
    bash(`echo ${token} > kept.txt && cat kept.txt`),
    { text: 'saved' },
    bash('sleep 5; echo slept'),
    bash('cat kept.txt'),
    { text: 'done' },
  ]);
  const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
  const settings = fastSettings(platform.prefix, {
    region: regionA,
    sandboxHostTimeoutMs: 5_000,
    sandboxHeartbeatTimeoutMs: 5_000,
    modelRegionWaitMs: 3_000,
  });
  const session = await new WorkflowSession(platform, agent, settings).start();
  await session.message('save a file');
  await session.waitForTurnEnd(1, 120_000);
  await session.message('sleep, then read the file');
  await session.waitFor('the sleeping tool call', (events) => toolUses(events) >= 2, 60_000);
  return { session, token, seqBeforeKill: 0 };
}

const toolUses = (events: Awaited<ReturnType<WorkflowSession['events']>>) =>
  events.filter((event) => event.type === 'agent.tool_use').length;

async function lastSeq(sessionId: string): Promise<number> {
  return (await readEvents(platform.pool, sessionId)).at(-1)?.seq ?? 0;
}

/** Polls until the session journals an event after `afterSeq`; the time from `since` until then. */
async function timeToNextEvent(run: SessionRun, since: number): Promise<number> {
  for (;;) {
    if ((await readEvents(platform.pool, run.session.sessionId, { afterSeq: run.seqBeforeKill })).length > 0) {
      return Date.now() - since;
    }
    if (Date.now() - since > 180_000) throw new Error(`no event after the kill in ${run.session.sessionId}`);
    await sleep(50);
  }
}

it(
  `sessions of a region whose whole fleet dies finish in the other region with their workspace (${sessionCount})`,
  { timeout: 400_000 },
  async () => {
    const [a, b] = regions as [Region, Region];
    const runs: SessionRun[] = [];
    for (let index = 0; index < sessionCount; index++) runs.push(await startSession(index));
    for (const run of runs) {
      expect((await run.session.state()).sandbox.hostQueue).toMatch(new RegExp(`host-${regionA}$`));
      expect(await containersOf(a, run.session.sessionId)).toHaveLength(1);
    }
    // Let the sleeping tools get going, then kill region A: its three worker processes and its Docker engine.
    await sleep(1_000);
    for (const run of runs) run.seqBeforeKill = await lastSeq(run.session.sessionId);
    const killedAt = Date.now();
    await Promise.all([...a.processes.map((child) => child.stop('SIGKILL')), a.dockerd.stop('SIGKILL')]);
    const nextEventMs = await Promise.all(runs.map((run) => timeToNextEvent(run, killedAt)));
    const turnEndMs: number[] = [];
    for (const run of runs) {
      await run.session.waitForTurnEnd(2, 240_000);
      turnEndMs.push(Date.now() - killedAt);
    }

    for (const run of runs) {
      const events = await run.session.events();
      // The loss and the move are announced; the turn ends normally; the file written in region A is read in B.
      const errors = events.filter((event) => event.type === 'session.error').map((event) => event.error.type);
      expect(errors).toContain('sandbox_lost_error');
      expect(errors).toContain('region_failover_error');
      expect(events.filter((event) => event.type === 'session.status_idle').map((e) => e.stop_reason.type)).toEqual([
        'end_turn',
        'end_turn',
      ]);
      expect(toolResultTexts(events)).toEqual([run.token, 'slept', run.token]);
      expect((await run.session.state()).sandbox.hostQueue).toMatch(new RegExp(`host-${regionB}$`));
      // At least the restored one (a creation retried after a missed heartbeat on a loaded machine may leave another,
      // removed with the session).
      expect((await containersOf(b, run.session.sessionId)).length).toBeGreaterThanOrEqual(1);
      const journaled = await readEvents(platform.pool, run.session.sessionId);
      expect(journaled.map((entry) => entry.seq)).toEqual(journaled.map((_, position) => position + 1));
      expect(new Set(journaled.map((entry) => entry.event.id)).size).toBe(journaled.length);
    }
    // Each session continued as new on region B's session queue, and keeps working there.
    const queueB = placedQueue({ taskQueuePrefix: platform.prefix, region: regionB }, taskQueues.session);
    for (const run of runs) {
      await expect.poll(async () => (await run.session.handle.describe()).taskQueue, { timeout: 60_000 }).toBe(queueB);
    }
    for (const run of runs) await run.session.terminate('deleted');
    // The replay gate's history of a region failover (both runs: the failover, then the run on B's queue).
    await recordHistory(platform.client, runs[0]!.session.handle.workflowId, 'region-failover');

    if (writeResults) writeRegionResults(nextEventMs, turnEndMs);
    console.log(
      `region failover: kill → next event ${nextEventMs.join(', ')} ms; → turn end ${turnEndMs.join(', ')} ms`,
    );
  },
);

function writeRegionResults(nextEventMs: number[], turnEndMs: number[]): void {
  const seconds = (values: number[]) => values.map((ms) => (ms / 1000).toFixed(1)).join(', ');
  writeResult(
    'faults-region-failover',
    { sessions: nextEventMs.length, heartbeatMs, staleMs, nextEventMs, turnEndMs },
    [
      '## Fault injection: a whole region dies',
      '',
      `Two regions on one machine (each: session, model and sandbox worker processes and a private dockerd in its ` +
        `own network namespace; shared Temporal dev server and PostgreSQL). ${nextEventMs.length} sessions placed in ` +
        'region A wrote a workspace file, then every process of region A and its Docker engine were SIGKILLed while ' +
        `each session ran \`sleep 5\`. Heartbeats every ${heartbeatMs / 1000} s, a region stale after ${staleMs / 1000} s; ` +
        'sandbox heartbeat timeout 5 s, host schedule-to-start timeout 5 s.',
      '',
      `Result: every session recorded \`sandbox_lost_error\` and \`region_failover_error\`, restored its workspace ` +
        'from the snapshot in region B (the file written in A was read there), ended the turn with `end_turn`, kept a ' +
        "gap-free log without duplicate ids, and continued as new on region B's session queue. Kill to the next " +
        `event: ${seconds(nextEventMs)} s; kill to the end of the interrupted turn: ${seconds(turnEndMs)} s.`,
    ],
    'FAULTS_RESULTS=1 npx vitest run test/faults/region-failover.test.ts',
  );
}
