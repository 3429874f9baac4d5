// Fault injection: `docker kill` a session's sandbox container while a tool runs in it. The sandbox is recreated from
// the last snapshot (taken at the end of the previous turn), the session announces a session.error
// (sandbox_lost_error) and goes on to finish the turn. FAULTS_CONTAINER_KILLS (default 2) sessions, one kill each;
// FAULTS_CONTAINER_KILLS=10 FAULTS_RESULTS=1 runs the long version and writes bench/results.
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeResult } from '../../bench/support/results.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { toolResultTexts } from '../support/event-lines.ts';

const sessionsToKill = Number(process.env.FAULTS_CONTAINER_KILLS ?? '2');
const writeResults = process.env.FAULTS_RESULTS === '1';
const docker = new Docker();

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'faults-container', workers: ['session', 'model', 'sandbox'] });
});
afterAll(async () => {
  await platform?.stop();
});

const sessionContainers = (sessionId: string) =>
  docker.listContainers({ all: true, filters: { label: [`io.temporal-agents.session=${sessionId}`] } });

interface KilledSession {
  sessionId: string;
  events: number;
  sessionErrors: number;
  /** From the kill to the end of the interrupted turn (a figure for the results, never asserted). */
  recoveryMs: number;
}

async function killMidTool(index: number): Promise<KilledSession> {
  const model = `${platform.prefix}-container-kill-${index}`;
  const bash = (command: string) => ({ toolCalls: [{ name: 'bash', input: { command } }] });
  platform.fakeModel.setScript(model, [
    bash(`echo base-${index} > base.txt && cat base.txt`),
    { text: 'saved' },
    bash('sleep 5; echo slept'),
    bash('cat base.txt'),
    { text: 'recovered' },
  ]);
  const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
  const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
  await session.message('save');
  await session.waitForTurnEnd(1);
  const [before] = await sessionContainers(session.sessionId);
  expect(before).toBeDefined();

  await session.message('sleep, then read');
  await session.waitFor(
    'the sleeping tool call',
    (events) => events.filter((event) => event.type === 'agent.tool_use').length >= 2,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await docker.getContainer(before!.Id).kill();
  const killedAt = Date.now();

  const events = await session.waitForTurnEnd(2, 120_000);
  const recoveryMs = Date.now() - killedAt;
  expect(events.filter((event) => event.type === 'session.error')).toMatchObject([
    { error: { type: 'sandbox_lost_error' } },
  ]);
  expect(events.filter((event) => event.type === 'session.status_idle').at(-1)).toMatchObject({
    stop_reason: { type: 'end_turn' },
  });
  // Recreated from the snapshot: a new container, with the first turn's file.
  expect(toolResultTexts(events).at(-1)).toBe(`base-${index}`);
  const after = await sessionContainers(session.sessionId);
  // The killed container stays (exited) until the session ends; exactly one live one, and it is new.
  const live = after.filter((info) => info.State === 'running' || info.State === 'paused');
  expect(live).toHaveLength(1);
  expect(live[0]?.Id).not.toBe(before!.Id);
  expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
  await session.terminate('deleted');
  expect(await sessionContainers(session.sessionId)).toHaveLength(0);
  const sessionErrors = events.filter((event) => event.type === 'session.error').length;
  return { sessionId: session.sessionId, events: events.length, sessionErrors, recoveryMs };
}

it(
  `recreates a sandbox killed mid-tool and the session goes on (${sessionsToKill} sessions)`,
  { timeout: 60_000 + sessionsToKill * 60_000 },
  async () => {
    const killed: KilledSession[] = [];
    for (let index = 0; index < sessionsToKill; index++) killed.push(await killMidTool(index));
    if (writeResults) writeContainerKillResults(killed);
  },
);

function writeContainerKillResults(killed: KilledSession[]): void {
  const sessionErrors = killed.reduce((sum, session) => sum + session.sessionErrors, 0);
  const recovery = killed.map((session) => session.recoveryMs).sort((a, b) => a - b);
  const median = recovery[Math.floor((recovery.length - 1) / 2)] ?? 0;
  writeResult(
    'faults-container-kill',
    { kills: killed.length, sessions: killed.length, sessionErrors, sessionsKilled: killed },
    [
      '## Fault injection: `docker kill` of sandbox containers (long run)',
      '',
      `${killed.length} sessions, one each after a turn that wrote /workspace/base.txt (snapshot at turn end): a ` +
        "`sleep 5` bash call starts, and 1 s into it the session's container is killed with `docker kill`.",
      '',
      `Result: ${killed.length} kills, ${sessionErrors} \`session.error\` events in all — exactly one ` +
        '`sandbox_lost_error` per session; every sandbox recreated from the last snapshot (a new container, the ' +
        "first turn's file read back), every interrupted turn ended with `end_turn`, event ids unique, and no " +
        `container left after the session ended. Kill to end of the interrupted turn: median ` +
        `${(median / 1000).toFixed(1)} s (min ${((recovery[0] ?? 0) / 1000).toFixed(1)}, ` +
        `max ${((recovery.at(-1) ?? 0) / 1000).toFixed(1)}).`,
    ],
    'FAULTS_CONTAINER_KILLS=10 FAULTS_RESULTS=1 npx vitest run test/faults/container-kill.test.ts',
  );
}
