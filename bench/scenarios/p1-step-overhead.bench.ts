// P1: per-step orchestration overhead. A 20-step turn (each step: a model call whose first token comes after 50 ms,
// answering with a `bash: true` tool call; then a final answer) through the platform — session workflow, model and
// sandbox activities, journal — against the identical loop run in-process: the same Anthropic SDK call to the same fake
// server, the same DockerSandbox.exec (at-most-once, like the bash tool) in an already running container.
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import Docker from 'dockerode';
import { afterAll, beforeAll, inject, it } from 'vitest';
import { DockerSandbox } from '../../activities/sandbox/docker-sandbox.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { sessionEventsChannel } from '../../db/repositories/session-events.ts';
import { defaultSandboxSpec } from '../../domain/sandbox.ts';
import { startTestPlatform, testContainerLabels, type TestPlatform } from '../../test/support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession, turnEnds } from '../../test/support/workflow-session.ts';
import { activityTimeline, type ActivityTimeline } from '../support/history-timeline.ts';
import { ratio, stats, statsHeader, statsRow, writeResult } from '../support/results.ts';

const steps = 20;
const firstTokenDelayMs = 50;
const repetitions = Number(process.env.BENCH_P1_REPS ?? '11');
// Issue 19's second round (P1′).
const target = 1.1;

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'bench-p1', workers: ['session', 'model', 'sandbox'] });
});
afterAll(async () => {
  await platform?.stop();
});

const stepTurn = (index: number) => ({
  toolCalls: [{ name: 'bash', input: { command: 'true' }, id: `toolu_p1_${index}_${randomUUID().slice(0, 8)}` }],
  firstTokenDelayMs,
});
const finalTurn = { text: 'Done.', firstTokenDelayMs };
const turnScript = () => [...Array.from({ length: steps }, (_, index) => stepTurn(index)), finalTurn];

/**
 * Waits for the session's n-th finished turn: woken by the journal's NOTIFY (as the API's streams are), then one
 * indexed read; polling instead would load the very event loop and database being measured.
 */
async function waitForTurns(session: WorkflowSession, count: number): Promise<void> {
  const listener = await platform.pool.connect();
  try {
    let wake: () => void = () => undefined;
    listener.on('notification', (message) => {
      if (message.payload?.startsWith(`${session.sessionId} `)) wake();
    });
    await listener.query(`listen ${sessionEventsChannel}`);
    for (;;) {
      const woken = new Promise<void>((resolve) => (wake = resolve));
      if (turnEnds(await session.events()) >= count) return;
      await Promise.race([woken, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    }
  } finally {
    await listener.query(`unlisten ${sessionEventsChannel}`);
    listener.removeAllListeners('notification');
    listener.release();
  }
}

it('measures a 20-step turn through the platform and in-process', async () => {
  const platformSamples: number[] = [];
  const inProcessSamples: number[] = [];
  const breakdown = { modelCall: [] as number[], toolExec: [] as number[] };
  const baselineBreakdown = { modelCall: [] as number[], toolExec: [] as number[] };
  const timelines: ActivityTimeline[] = [];
  const anthropic = new Anthropic({ apiKey: 'bench', baseURL: platform.fakeModel.url, maxRetries: 0 });
  const sandbox = new DockerSandbox(new Docker(), { extraLabels: testContainerLabels() });
  const containerId = await sandbox.create(defaultSandboxSpec(inject('sandboxImage')));
  try {
    for (let repetition = 0; repetition < repetitions; repetition++) {
      // Through the platform: one warm-up turn creates the sandbox, the second turn is measured.
      const model = `${platform.prefix}-p1-${repetition}`;
      platform.fakeModel.setScript(model, [stepTurn(99), { text: 'warm' }, ...turnScript()]);
      const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
      const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
      await session.message('warm up');
      await waitForTurns(session, 1);
      const started = performance.now();
      await session.message('twenty steps');
      await waitForTurns(session, 2);
      if (repetition > 0) platformSamples.push(performance.now() - started);
      const events = (await readEvents(platform.pool, session.sessionId)).map((entry) => entry.event);
      collectBreakdown(events, breakdown);
      if (repetition > 0) timelines.push(await activityTimeline(platform.client, session.handle.workflowId));
      await session.terminate();

      // In-process: the same calls in a plain loop.
      const baselineModel = `${platform.prefix}-p1-baseline-${repetition}`;
      platform.fakeModel.setScript(baselineModel, turnScript());
      const loopStarted = performance.now();
      for (let step = 0; step <= steps; step++) {
        const modelStarted = performance.now();
        const stream = await anthropic.messages.create({
          model: baselineModel,
          max_tokens: 4096,
          stream: true,
          messages: [{ role: 'user', content: 'twenty steps' }],
          tools: [{ name: 'bash', description: 'bash', input_schema: { type: 'object', properties: {} } }],
        });
        let toolUse = false;
        for await (const event of stream) {
          if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') toolUse = true;
        }
        const execStarted = performance.now();
        if (repetition > 0) baselineBreakdown.modelCall.push(execStarted - modelStarted);
        if (!toolUse) break;
        await sandbox.exec(containerId, {
          command: 'true',
          timeoutMs: 120_000,
          maxOutputBytes: 30_000,
          execId: `baseline-${repetition}-${step}-${randomUUID().slice(0, 8)}`,
        });
        if (repetition > 0) baselineBreakdown.toolExec.push(performance.now() - execStarted);
      }
      if (repetition > 0) inProcessSamples.push(performance.now() - loopStarted);
    }
  } finally {
    await sandbox.destroy(containerId);
  }
  const through = stats(platformSamples);
  const inProcess = stats(inProcessSamples);
  const overhead = ratio(through.p50, inProcess.p50);
  const perStep = (s: number) => Math.round((s / (steps + 1)) * 10) / 10;
  const spread = { min: ratio(through.min, inProcess.max), max: ratio(through.max, inProcess.min) };
  const breakdownStats = Object.fromEntries(Object.entries(breakdown).map(([key, samples]) => [key, stats(samples)]));
  const baselineStats = Object.fromEntries(
    Object.entries(baselineBreakdown).map(([key, samples]) => [key, stats(samples)]),
  );
  writeResult(
    'p1-step-overhead',
    {
      steps,
      firstTokenDelayMs,
      repetitions: repetitions - 1,
      target,
      platform: through,
      inProcess,
      ratio: overhead,
      spread,
      breakdown: breakdownStats,
      history: historyStats(timelines),
    },
    [
      '## P1: per-step orchestration overhead',
      '',
      `A turn of ${steps} tool steps (fake model: first token after ${firstTokenDelayMs} ms, a \`bash: true\` tool ` +
        'call) and a final answer: through the platform (signal → `session.status_idle` end_turn in the journal, ' +
        'sandbox already created by a warm-up turn) and as the identical in-process loop (same SDK call to the same ' +
        `fake server, same \`DockerSandbox.exec\`). ${repetitions - 1} measured repetitions of each, after one unmeasured.`,
      '',
      ...statsHeader,
      statsRow('platform, whole turn', through),
      statsRow('in-process loop, whole turn', inProcess),
      '',
      `Per step (p50 / ${steps + 1} model calls): platform ${perStep(through.p50)} ms, in-process ` +
        `${perStep(inProcess.p50)} ms. **Ratio ${overhead}×** (p50 / p50; spread ${spread.min}–${spread.max}×); ` +
        `target ≤ ${target}× — **${overhead <= target ? 'met' : 'missed'}**.`,
      '',
      'Where a step goes, ms. Platform: from the journal’s `processed_at` (workflow task time, so it includes the ' +
        'activity scheduling on both ends, 1 ms resolution); in-process: timed around each call.',
      '',
      ...statsHeader,
      statsRow('model call (span.model_request_start → end)', breakdownStats.modelCall!),
      statsRow('tool (agent.tool_use → agent.tool_result)', breakdownStats.toolExec!),
      statsRow('in-process model call (request → stream end)', baselineStats.modelCall!),
      statsRow('in-process tool (DockerSandbox.exec)', baselineStats.toolExec!),
      '',
      `Per step the platform adds ~${Math.round(breakdownStats.modelCall!.p50 - baselineStats.modelCall!.p50)} ms ` +
        `to the model call and ~${Math.round(breakdownStats.toolExec!.p50 - baselineStats.toolExec!.p50)} ms to the ` +
        'tool (p50 against p50): each is one activity round trip through the Temporal server and the workflow task ' +
        'that decides the next step; the profile below splits them. The model and Docker work itself is the same ' +
        'code in both.',
      '',
      ...historyLines(timelines),
      '',
      'Reading the profile: the poll wait is a few ms; an activity runs longer than the same work in-process by its ' +
        'PostgreSQL round trips (handed-off events, transcript, budget check before the provider request, usage ' +
        'ledger and last deltas after it — side by side since issue 19, one round trip each side) and payload ' +
        'encoding; the workflow task after each activity (dispatch and processing, twice per step) is the largest ' +
        'part. CPU profiles of a turn (`node --cpu-prof` on the workers, inspector on the main thread) show the ' +
        "worker's main thread and its workflow thread idle over 90% of the turn, the workflow thread's CPU ~5 ms " +
        "per task of which about a third is the SDK's promise stack-trace hook: the time is hops between processes " +
        '(Temporal server, PostgreSQL, worker core and Node threads), each waiting for one of the 2 shared cores, ' +
        'which the in-process loop does not make. Two activity round trips and two workflow tasks per step are ' +
        'the floor of this design (model calls and sandbox operations as retried activities on their own queues), ' +
        'so P1′ (1.10×, ~5.6 ms per step) is out of reach on this machine. Until the Temporal servers we start raised ' +
        "each history shard's task-queue read rate (scripts/services/temporal-server-config.ts, taskDispatchReadRates; " +
        "Temporal's default is 20 reads/s per shard, a token bucket), a step took ~105 ms for the turn's first second " +
        'and was then pinned at 200 ms — four dispatches per step at 20 reads/s — with the poll waits above at ' +
        '20–40 ms: 163 ms per step, 2.91× (quiet machine).',
    ],
  );
});

type Breakdown = { modelCall: number[]; toolExec: number[] };

/** Splits the measured turn's events into model time and tool time. */
function collectBreakdown(events: Array<{ type: string; processed_at?: string | null }>, into: Breakdown): void {
  const lastTurnStart = events.map((event) => event.type).lastIndexOf('user.message');
  const at = (event: { processed_at?: string | null }) => Date.parse(event.processed_at ?? '');
  let modelStart: number | undefined;
  let toolStart: number | undefined;
  for (const event of events.slice(lastTurnStart)) {
    if (event.type === 'span.model_request_start') {
      modelStart = at(event);
    } else if (event.type === 'span.model_request_end' && modelStart !== undefined) {
      into.modelCall.push(at(event) - modelStart);
    } else if (event.type === 'agent.tool_use') toolStart = at(event);
    else if (event.type === 'agent.tool_result' && toolStart !== undefined) {
      into.toolExec.push(at(event) - toolStart);
    }
  }
}

/** The measured turns' Temporal histories, summed up: where each activity round trip goes (server timestamps). */
function historyStats(timelines: ActivityTimeline[]) {
  const all = (pick: (timeline: ActivityTimeline) => number[]) => stats(timelines.flatMap(pick));
  const of = (name: string) => ({
    dispatch: all((timeline) => timeline.activities[name]?.dispatch ?? []),
    run: all((timeline) => timeline.activities[name]?.run ?? []),
    workflowTask: all((timeline) => timeline.activities[name]?.workflowTask ?? []),
  });
  return {
    invokeModel: of('invokeModel'),
    runTool: of('runTool'),
    workflowTaskProcessing: all((timeline) => timeline.workflowTaskProcessing),
    perTurn: {
      events: stats(timelines.map((timeline) => timeline.events)),
      workflowTasks: stats(timelines.map((timeline) => timeline.workflowTasks)),
      markers: stats(timelines.map((timeline) => timeline.markers)),
    },
  };
}

function historyLines(timelines: ActivityTimeline[]): string[] {
  const history = historyStats(timelines);
  return [
    'Profile of the measured turns, from their Temporal histories (server timestamps): per activity, the wait for a ' +
      "worker's poll, the activity's run, and the session worker's workflow task after it (activity completed → " +
      'that task completed: its dispatch and processing, which schedules the next activity).',
    '',
    ...statsHeader,
    statsRow('invokeModel: scheduled → started', history.invokeModel.dispatch),
    statsRow('invokeModel: started → completed', history.invokeModel.run),
    statsRow('invokeModel: completed → next workflow task completed', history.invokeModel.workflowTask),
    statsRow('runTool: scheduled → started', history.runTool.dispatch),
    statsRow('runTool: started → completed', history.runTool.run),
    statsRow('runTool: completed → next workflow task completed', history.runTool.workflowTask),
    statsRow('workflow task: started → completed', history.workflowTaskProcessing),
    '',
    `Per measured turn (p50): ${history.perTurn.events.p50} history events, ${history.perTurn.workflowTasks.p50} ` +
      `workflow tasks, ${history.perTurn.markers.p50} markers.`,
  ];
}
