// Fault injection: SIGKILL the session, model and sandbox workers at random points while scripted sessions run, start
// them again, and every session still completes with a complete, duplicate-free event log and every tool side effect
// applied exactly once (each turn appends a unique line to /workspace/effects.txt; the last turn reads the file back).
// Short by default (CI); FAULTS_KILL_POINTS=60 FAULTS_RESULTS=1 runs the long version and writes bench/results.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';
import type { SessionEvent } from '../../domain/events.ts';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { writeResult } from '../../bench/support/results.ts';
import { startTestPlatform, testContainerLabels, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import { startWorkerProcess, type WorkerFamily } from '../support/worker-processes.ts';

const killPointsWanted = Number(process.env.FAULTS_KILL_POINTS ?? '6');
const writeResults = process.env.FAULTS_RESULTS === '1';
const sessionsPerRound = 3;
const stepsPerSession = 5;
const families: WorkerFamily[] = ['session', 'model', 'sandbox'];

let platform: TestPlatform;
const running = new Map<WorkerFamily, ManagedProcess>();
beforeAll(async () => {
  // Only the backend worker in-process (unused); the fake model server lives here so scripts survive the kills.
  platform = await startTestPlatform({ label: 'faults-kill', workers: ['backend'] });
});
afterAll(async () => {
  await Promise.all([...running.values()].map((child) => child.stop('SIGKILL')));
  await platform?.stop();
});

async function startFamily(family: WorkerFamily): Promise<void> {
  const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
  running.set(
    family,
    await startWorkerProcess(family, {
      prefix: platform.prefix,
      fakeModelUrl: platform.fakeModel.url,
      extraEnv:
        family === 'sandbox'
          ? { AGENTS_SANDBOX_HOST_ID: 'faults-host', AGENTS_SANDBOX_EXTRA_LABELS: labels.join(',') }
          : {},
    }),
  );
}

interface ScriptedSession {
  driver: WorkflowSession;
  lines: string[];
}

// The fake model's unscripted (demo) mode answers from the request alone ("run: <cmd>" → a bash call, a tool result →
// text), so a model call retried after a kill gets the same answer; a script would move on to its next turn instead.
// Every line is its own turn (user events queue and run in order); the last turn reads the file back.
async function startScriptedSession(round: number, index: number): Promise<ScriptedSession> {
  const model = `${platform.prefix}-kill-${round}-${index}`;
  const lines = Array.from(
    { length: stepsPerSession },
    (_, step) => `effect-${round}-${index}-${step}-${randomUUID()}`,
  );
  const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
  const driver = new WorkflowSession(platform, agent, fastSettings(platform.prefix, { modelMaxAttempts: 20 }));
  await driver.start();
  await driver.send(
    ...lines.map((line, step) => ({
      type: 'user.message' as const,
      content: [{ type: 'text' as const, text: `run: echo ${line} >> /workspace/effects.txt; sleep 0.${step % 4}` }],
    })),
    { type: 'user.message', content: [{ type: 'text', text: 'run: cat /workspace/effects.txt' }] },
  );
  return { driver, lines };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it(
  `sessions complete exactly once through ${killPointsWanted} SIGKILLs of session, model and sandbox workers`,
  { timeout: 300_000 + killPointsWanted * 15_000 },
  async () => {
    for (const family of families) await startFamily(family);
    const kills: Array<{ family: WorkerFamily; afterMs: number }> = [];
    const checked: Array<{ sessionId: string; events: number; errors: number }> = [];
    let round = 0;
    while (kills.length < killPointsWanted) {
      const sessions = await Promise.all(
        Array.from({ length: sessionsPerRound }, (_, index) => startScriptedSession(round, index)),
      );
      let finished = false;
      const allDone = Promise.all(
        sessions.map((session) => session.driver.waitForTurnEnd(stepsPerSession + 1, 240_000)),
      ).finally(() => (finished = true));
      // Kill at random points while the round runs, at least once per round.
      do {
        const afterMs = 200 + Math.floor(Math.random() * 1_300);
        await pause(afterMs);
        if (finished && kills.length > 0) break;
        const family = families[Math.floor(Math.random() * families.length)]!;
        await running.get(family)?.stop('SIGKILL');
        kills.push({ family, afterMs });
        await startFamily(family);
      } while (!finished && kills.length < killPointsWanted);
      await allDone;
      for (const session of sessions) checked.push(await verifySession(session));
      round++;
    }
    if (writeResults) {
      const byFamily = Object.fromEntries(
        families.map((family) => [family, kills.filter((k) => k.family === family).length]),
      );
      const sessionErrors = checked.reduce((sum, session) => sum + session.errors, 0);
      writeResult(
        'faults-worker-kill',
        { killPoints: kills.length, byFamily, sessions: checked.length, stepsPerSession, kills, checked },
        [
          '## Fault injection: SIGKILL of workers (long run)',
          '',
          `${kills.length} SIGKILLs at random points (200–1500 ms apart) — session worker ${byFamily.session}, model ` +
            `worker ${byFamily.model}, sandbox worker ${byFamily.sandbox} — each followed by a restart, across ` +
            `${checked.length} sessions of ${stepsPerSession + 1} turns (${sessionsPerRound} at a time), every turn a bash ` +
            'call appending a unique line to /workspace/effects.txt, the last reading it back.',
          '',
          `Result: every session finished every turn with \`end_turn\`; every event log gap-free with no duplicate ids; ` +
            `one tool result per tool use; every line written exactly once, in order. ${sessionErrors} session.error ` +
            'events (retries announced by the loop) across all sessions.',
          '',
          'Command: `FAULTS_KILL_POINTS=60 FAULTS_RESULTS=1 npx vitest run test/faults/worker-kill.test.ts`.',
        ],
      );
    }
    console.log(`${kills.length} kill points over ${checked.length} sessions: every session verified`);
  },
);

/** The whole log: gap-free, no duplicate ids, one result per tool use, each side effect exactly once. */
async function verifySession({ driver, lines }: ScriptedSession) {
  const journaled = await readEvents(platform.pool, driver.sessionId);
  const events: SessionEvent[] = journaled.map((entry) => entry.event);
  expect(journaled.map((entry) => entry.seq)).toEqual(journaled.map((_, index) => index + 1));
  expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
  const idles = events.filter((event) => event.type === 'session.status_idle');
  expect(idles.map((event) => event.stop_reason.type)).toEqual(
    Array.from({ length: stepsPerSession + 1 }, () => 'end_turn'),
  );
  const toolUses = events.filter((event) => event.type === 'agent.tool_use');
  const toolResults = events.filter((event) => event.type === 'agent.tool_result');
  expect(toolUses).toHaveLength(stepsPerSession + 1);
  expect(toolResults.map((event) => event.tool_use_id).sort()).toEqual(toolUses.map((event) => event.id).sort());
  const readBack = toolResults.at(-1);
  const text = (readBack?.content ?? []).map((block) => block.text).join('');
  expect(text.trim().split('\n')).toEqual(lines);
  await driver.terminate();
  return {
    sessionId: driver.sessionId,
    events: events.length,
    errors: events.filter((event) => event.type === 'session.error').length,
  };
}
