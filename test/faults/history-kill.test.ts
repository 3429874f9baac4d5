// Fault injection on the Temporal cluster profile (npm run test:cluster): SIGKILL one of the two history processes while
// sessions run. Its shards move to the surviving history process; every session still finishes every turn, each event log
// gap-free without duplicate ids, each tool side effect applied exactly once (each turn appends a unique line to
// /workspace/effects.txt; the last turn reads the file back). Skipped on the dev server (one process, nothing to kill).
// FAULTS_RESULTS=1 writes bench/results/faults-history-kill.json.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';
import type { SessionEvent } from '../../domain/events.ts';
import { writeResult } from '../../bench/support/results.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';

const historyPids = inject('temporalHistoryPids') ?? [];
const sessionCount = 3;
const stepsPerSession = 5;

describe.skipIf(historyPids.length < 2)('a history process SIGKILLed mid-session', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ label: 'history-kill' });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('loses nothing: sessions finish, logs complete, tool effects once', { timeout: 400_000 }, async () => {
    const sessions = await Promise.all(Array.from({ length: sessionCount }, (_, index) => startSession(index)));
    // Mid-session: once some session has run a tool, and none has finished.
    await sessions[0]!.driver.waitFor('a first tool result', (events) =>
      events.some((event) => event.type === 'agent.tool_result'),
    );
    const victim = historyPids.at(-1)!;
    const eventsBefore = await Promise.all(sessions.map(async (s) => (await s.driver.events()).length));
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    const firstAfter = await Promise.race(
      sessions.map((s, i) => s.driver.waitFor('an event after the kill', (e) => e.length > eventsBefore[i]!, 300_000)),
    ).then(() => Date.now() - killedAt);
    await Promise.all(sessions.map((s) => s.driver.waitForTurnEnd(stepsPerSession + 1, 300_000)));
    const allDoneMs = Date.now() - killedAt;
    const checked = [];
    for (const session of sessions) checked.push(await verifySession(session));
    console.log(
      `history pid ${victim} killed: first event ${firstAfter} ms later, all ${sessionCount} sessions done ${allDoneMs} ms later`,
    );
    if (process.env.FAULTS_RESULTS === '1') {
      writeResult(
        'faults-history-kill',
        { historyProcesses: historyPids.length, sessions: checked, firstEventAfterKillMs: firstAfter, allDoneMs },
        [
          '## Fault injection: SIGKILL of a Temporal history process (cluster profile)',
          '',
          `Cluster: frontend, matching, worker and ${historyPids.length} history processes, 8 shards, PostgreSQL ` +
            `persistence and visibility. ${sessionCount} sessions of ${stepsPerSession + 1} turns (each a bash call ` +
            'appending a unique line to /workspace/effects.txt, the last reading it back); one history process ' +
            'SIGKILLed after the first tool result and not restarted.',
          '',
          `Result: first session event ${firstAfter} ms after the kill; every session finished every turn ` +
            `${allDoneMs} ms after it; every log gap-free without duplicate ids, one tool result per tool use, every ` +
            'line written exactly once, in order.',
          '',
          'Command: `FAULTS_RESULTS=1 npm run test:cluster -- test/faults/history-kill.test.ts`.',
        ],
      );
    }
  });

  interface ScriptedSession {
    driver: WorkflowSession;
    lines: string[];
  }

  // The fake model's demo mode answers from the request alone ("run: <cmd>" → a bash call), so a retried call is the same.
  async function startSession(index: number): Promise<ScriptedSession> {
    const lines = Array.from({ length: stepsPerSession }, (_, step) => `effect-${index}-${step}-${randomUUID()}`);
    const agent = agentSnapshot({
      model: { id: `${platform.prefix}-history-kill-${index}` },
      tools: [{ type: 'agent_toolset_20260401' }],
    });
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
    const text = (toolResults.at(-1)?.content ?? []).map((block) => block.text).join('');
    expect(text.trim().split('\n')).toEqual(lines);
    await driver.terminate();
    return { sessionId: driver.sessionId, events: events.length };
  }
});
