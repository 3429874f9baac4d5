// Fault injection: the Docker engine restarts under running sessions. A private dockerd (never the machine's main one,
// which other test files use meanwhile) serves a sandbox worker process; while a tool runs (or while the session is
// idle) it is killed or shut down, kept down a while, and started again on the same data-root, which stops every
// container it had. The sandbox activities wait out the outage instead of spending their retries, the session
// announces one session.error (sandbox_lost_error), recreates its sandbox from the last snapshot, finishes the turn
// and goes on. Short by default (CI: one crash mid-tool, down 5 s); FAULTS_DOCKERD_RESTARTS=5 FAULTS_RESULTS=1 runs
// the long version and writes bench/results.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { writeResult } from '../../bench/support/results.ts';
import { startTestPlatform, testContainerLabels, type TestPlatform } from '../support/platform.ts';
import { PrivateDockerd } from '../support/private-dockerd.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';
import { toolResultTexts } from '../support/event-lines.ts';

const restartsWanted = Number(process.env.FAULTS_DOCKERD_RESTARTS ?? '1');
const writeResults = process.env.FAULTS_RESULTS === '1';

interface RestartPlan {
  /** mid-tool: while `sleep 5` runs in the sandbox; idle: between turns, the next message arriving while it is down. */
  point: 'mid-tool' | 'idle';
  /** SIGKILL: a crash (containers are stopped when it comes back); SIGTERM: a clean shutdown (stopped first). */
  signal: 'SIGKILL' | 'SIGTERM';
  downMs: number;
}

// The first plan is the CI run. 20 s down outlasts the sandbox activities' own retries (5 attempts, 1 s … 8 s apart).
const plans: RestartPlan[] = [
  { point: 'mid-tool', signal: 'SIGKILL', downMs: 5_000 },
  { point: 'idle', signal: 'SIGTERM', downMs: 3_000 },
  { point: 'mid-tool', signal: 'SIGTERM', downMs: 0 },
  { point: 'idle', signal: 'SIGKILL', downMs: 0 },
  { point: 'mid-tool', signal: 'SIGKILL', downMs: 20_000 },
];
const planFor = (index: number): RestartPlan => plans[index % plans.length]!;

let platform: TestPlatform;
let dockerd: PrivateDockerd;
let sandboxWorker: ManagedProcess | undefined;
beforeAll(async () => {
  // The session and model workers run here (the fake model server too); the sandbox worker talks to the private daemon.
  platform = await startTestPlatform({ label: 'faults-dockerd', workers: ['session', 'model'] });
  dockerd = await PrivateDockerd.start('faults');
  await dockerd.loadImage(inject('sandboxImage'));
  const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
  sandboxWorker = await startWorkerProcess('sandbox', {
    prefix: platform.prefix,
    extraEnv: {
      DOCKER_HOST: dockerd.dockerHost,
      AGENTS_SANDBOX_HOST_ID: 'private-dockerd',
      AGENTS_SANDBOX_EXTRA_LABELS: labels.join(','),
    },
  });
});
afterAll(async () => {
  await sandboxWorker?.stop('SIGKILL');
  await platform?.stop();
  await dockerd?.cleanup();
});

const sessionContainers = (sessionId: string) =>
  dockerd.docker.listContainers({ all: true, filters: { label: [`io.temporal-agents.session=${sessionId}`] } });

/** Stops the private daemon, keeps it down for downMs (while `meanwhile` runs), starts it on the same data-root. */
async function restartDockerd(plan: RestartPlan, meanwhile: () => Promise<unknown> = async () => undefined) {
  await dockerd.stop(plan.signal);
  await meanwhile();
  await sleep(plan.downMs);
  await dockerd.start();
}

interface RoundResult {
  plan: RestartPlan;
  sessionId: string;
  events: number;
  sessionErrors: number;
  /** From the daemon's start to the end of the interrupted turn (a figure for the results, never asserted). */
  recoveryMs: number;
}

async function restartRound(index: number): Promise<RoundResult> {
  const plan = planFor(index);
  const model = `${platform.prefix}-dockerd-${index}`;
  const bash = (command: string) => ({ toolCalls: [{ name: 'bash', input: { command } }] });
  const base = `base-${index}`;
  platform.fakeModel.setScript(model, [
    bash(`echo ${base} > base.txt && cat base.txt`),
    { text: 'saved' },
    ...(plan.point === 'mid-tool' ? [bash('sleep 5; echo slept')] : []),
    bash('cat base.txt'),
    { text: 'recovered' },
    bash('echo more >> base.txt && cat base.txt'),
    { text: 'done' },
  ]);
  const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
  const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
  await session.message('save');
  await session.waitForTurnEnd(1);
  const [before] = await sessionContainers(session.sessionId);
  expect(before).toBeDefined();

  if (plan.point === 'mid-tool') {
    await session.message('sleep, then read');
    await session.waitFor(
      'the sleeping tool call',
      (events) => events.filter((event) => event.type === 'agent.tool_use').length >= 2,
    );
    await sleep(1_000);
    await restartDockerd(plan);
  } else {
    // The next message arrives while the daemon is down: the tool call waits for it to come back.
    await restartDockerd(plan, () => session.message('read'));
  }
  const restartedAt = Date.now();
  await session.waitForTurnEnd(2, 180_000);
  const recoveryMs = Date.now() - restartedAt;
  await session.message('append');
  const events = await session.waitForTurnEnd(3, 120_000);

  // One announced loss; every turn ended normally; the workspace came back from the snapshot and kept working.
  expect(events.filter((event) => event.type === 'session.error')).toMatchObject([
    { error: { type: 'sandbox_lost_error' } },
  ]);
  expect(events.filter((event) => event.type === 'session.status_idle').map((event) => event.stop_reason.type)).toEqual(
    ['end_turn', 'end_turn', 'end_turn'],
  );
  expect(toolResultTexts(events)).toEqual([
    base,
    ...(plan.point === 'mid-tool' ? ['slept'] : []),
    base,
    `${base}\nmore`,
  ]);
  expect(events.filter((event) => event.type === 'agent.tool_result' && event.is_error)).toEqual([]);
  const live = (await sessionContainers(session.sessionId)).filter((info) => info.State === 'running');
  expect(live).toHaveLength(1);
  expect(live[0]?.Id).not.toBe(before!.Id);

  // The whole log: gap-free, no duplicate ids.
  const journaled = await readEvents(platform.pool, session.sessionId);
  expect(journaled.map((entry) => entry.seq)).toEqual(journaled.map((_, position) => position + 1));
  expect(new Set(journaled.map((entry) => entry.event.id)).size).toBe(journaled.length);

  await session.terminate('deleted');
  expect(await sessionContainers(session.sessionId)).toHaveLength(0);
  const { Volumes: volumes } = await dockerd.docker.listVolumes({
    filters: { label: [`io.temporal-agents.session=${session.sessionId}`] },
  });
  expect(volumes ?? []).toHaveLength(0);
  return { plan, sessionId: session.sessionId, events: journaled.length, sessionErrors: 1, recoveryMs };
}

it(
  `sessions survive ${restartsWanted} restart(s) of the Docker engine: sandboxes recreated from snapshots`,
  { timeout: 120_000 + restartsWanted * 120_000 },
  async () => {
    const rounds: RoundResult[] = [];
    for (let index = 0; index < restartsWanted; index++) rounds.push(await restartRound(index));
    // Nothing of the test is left on the private daemon.
    expect(await dockerd.docker.listContainers({ all: true })).toEqual([]);
    // The outage was waited out inside the activities (the sandbox worker logs each wait), not retried away.
    const outageWaits = readFileSync(sandboxWorker!.logFile, 'utf8').split('Docker daemon unreachable').length - 1;
    if (rounds.some((round) => round.plan.downMs > 0)) expect(outageWaits).toBeGreaterThan(0);

    if (writeResults) writeDockerdResults(rounds, outageWaits);
    console.log(`${rounds.length} dockerd restart(s), every session recovered; ${outageWaits} outage waits`);
  },
);

function writeDockerdResults(rounds: RoundResult[], outageWaits: number): void {
  const sessionErrors = rounds.reduce((sum, round) => sum + round.sessionErrors, 0);
  const recovery = rounds.map((round) => round.recoveryMs).sort((a, b) => a - b);
  const describe = (plan: RestartPlan) => `${plan.point}, ${plan.signal}, down ${plan.downMs / 1000} s`;
  writeResult(
    'faults-dockerd-restart',
    {
      restarts: rounds.length,
      sessions: rounds.length,
      sessionErrors,
      outageWaits,
      storageDriver: dockerd.storageDriver,
      rounds,
    },
    [
      '## Fault injection: Docker engine restarts (long run)',
      '',
      `${rounds.length} restarts of a private dockerd (its own socket, data-root and containerd; ${dockerd.storageDriver} ` +
        'storage) serving a sandbox worker process, one session each: ' +
        rounds.map((round) => describe(round.plan)).join('; ') +
        '. mid-tool: during a `sleep 5` bash call; idle: between turns, the next message sent while the daemon is ' +
        'down. Coming back, dockerd stops every container it had.',
      '',
      `Result: every session announced exactly one \`session.error\` (\`sandbox_lost_error\`; ${sessionErrors} in all), ` +
        "got its sandbox back from the last snapshot (the first turn's file), ended every turn with `end_turn`, ran " +
        'a further turn, kept a gap-free event log without duplicate ids, and left no container or volume behind. ' +
        `The sandbox activities waited out the outage ${outageWaits} time(s) (a 20 s outage outlasts their 5 quick ` +
        `retries). Daemon start to end of the interrupted turn: ${recovery.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s.`,
    ],
    'FAULTS_DOCKERD_RESTARTS=5 FAULTS_RESULTS=1 npx vitest run test/faults/dockerd-restart.test.ts',
  );
}
