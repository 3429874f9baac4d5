// The peer, side by side: the same scripted agent (one `bash: true` call per step, the same fake model over its
// OpenAI-compatible endpoint) on our platform — driven through the official Anthropic SDK, sessions and their event
// stream — and on LangGraph's local server (`langgraph dev`, langgraph-api on the in-memory runtime; the graph in
// bench/peer/langgraph/agent.py), driven through its HTTP `runs/stream`, in the same run and interleaved: first token,
// per step, and 50 runs at once. The peer's tool runs either as a subprocess on the host (no isolation) or by
// `docker exec` into a running container of our sandbox image; ours runs in the session's Docker sandbox through the
// in-sandbox exec agent. Skipped when the peer's virtualenv cannot be built (scripts/setup/langgraph-peer.sh).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, inject, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../../test/support/api-harness.ts';
import type { FakeTurn } from '../../test/fake-model/script.ts';
import { removePeerContainers, startPeerContainers } from '../peer/docker-containers.ts';
import { createThread, ensurePeerVenv, startPeerServer, streamRun, type PeerServer } from '../peer/langgraph-server.ts';
import { OurSession, ourClient, type TurnMarks } from '../peer/platform-driver.ts';
import { writePeerResult, type ConcurrencyRound, type Side } from '../peer/report.ts';
import { cpuSpent, readCpu, type CpuSources } from '../support/cpu-by-process.ts';
import { stats } from '../support/results.ts';

const sizes = {
  firstTokenTurns: Number(process.env.BENCH_PEER_TURNS ?? '60'),
  warmupTurns: 5,
  stepRuns: Number(process.env.BENCH_PEER_STEP_RUNS ?? '6'),
  steps: 10,
  concurrent: Number(process.env.BENCH_PEER_CONCURRENT ?? '50'),
  concurrentSteps: 5,
  concurrentModelDelayMs: 50,
  rounds: Number(process.env.BENCH_PEER_ROUNDS ?? '2'),
  pauseMs: 200,
};
const cli = ensurePeerVenv();
const sides: Side[] = ['ours', 'peer-subprocess', 'peer-docker'];

let harness: ApiHarness;
let peer: PeerServer;
const containers: string[] = [];
let sources: CpuSources;
let ourSide: Awaited<ReturnType<typeof ourClient>>;
beforeAll(async () => {
  if (!cli) return;
  harness = await startApiHarness('bench-peer', {
    workers: ['session', 'model', 'sandbox'],
    // No pause or snapshot of an idle sandbox while the benchmark runs: every measured turn finds it running.
    sessionSettings: { idlePauseMs: 3_600_000, idleSnapshotMs: 7_200_000 },
  });
  ourSide = await ourClient(harness);
  peer = await startPeerServer(cli, harness.platform.fakeModel.url, sizes.concurrent + 10);
  sources = {
    temporalPort: Number(new URL(`http://${inject('temporalAddress')}`).port),
    postgresPort: Number(new URL(inject('databaseUrl')).port),
    pids: { 'bench process (API, our workers, fake model, both drivers)': process.pid },
    pidsWithChildren: { 'langgraph dev (peer, with its tool subprocesses)': peer.pid },
  };
});
afterAll(async () => {
  await removePeerContainers(containers);
  await peer?.stop();
  await harness?.stop();
});

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const pause = () => new Promise((resolve) => setTimeout(resolve, sizes.pauseMs));
const text = (): FakeTurn => ({ text: 'A short answer streamed in a few chunks.', chunkSize: 8 });
const stepScript = (steps: number, delayMs: number): FakeTurn[] => [
  ...Array.from({ length: steps }, () => ({
    toolCalls: [{ name: 'bash', input: { command: 'true' } }],
    firstTokenDelayMs: delayMs,
  })),
  { text: 'done', firstTokenDelayMs: delayMs },
];

/** Something that runs turns of one conversation: a session of ours, or a LangGraph thread in one tool mode. */
interface Runner {
  model: string;
  turn(text: string): Promise<TurnMarks>;
}

async function runners(side: Side, count: number, label: string): Promise<Runner[]> {
  const prefix = `${harness.platform.prefix}-${label}-${side}`;
  if (side === 'ours') {
    const { client, environmentId } = ourSide;
    const created: Runner[] = [];
    for (let index = 0; index < count; index++) {
      const session = await OurSession.create(client, environmentId, `${prefix}-${index}`);
      created.push({ model: session.model, turn: (message) => session.runTurn(message) });
    }
    return created;
  }
  const names = side === 'peer-docker' ? await startPeerContainers(inject('sandboxImage'), count, prefix) : [];
  containers.push(...names);
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const threadId = await createThread(peer);
      const model = `${prefix}-${index}`;
      const configurable = {
        model,
        tool_mode: side === 'peer-docker' ? 'docker' : 'subprocess',
        ...(names[index] ? { container: names[index] } : {}),
      };
      return { model, turn: (message: string) => streamRun(peer, threadId, message, configurable) };
    }),
  );
}

const stepGaps = (marks: TurnMarks) => marks.toolResults.slice(1).map((at, index) => at - marks.toolResults[index]!);
const completed = (marks: TurnMarks, steps: number) =>
  !marks.error && marks.answer === 'done' && marks.toolResults.length === steps;
/** Why runs did not complete: distinct messages, the first few, shortened. */
const failures = (all: TurnMarks[], steps: number) =>
  [
    ...new Set(
      all
        .filter((marks) => !completed(marks, steps))
        .map((marks) =>
          (
            marks.error ?? `no error, answer ${JSON.stringify(marks.answer)}, ${marks.toolResults.length} tool results`
          ).slice(0, 300),
        ),
    ),
  ].slice(0, 5);

/** Text-only turns, one at a time, each side's turn after the other's, 200 ms after the previous one ended. */
async function firstToken() {
  const ours = (await runners('ours', 1, 'ft'))[0]!;
  const theirs = (await runners('peer-subprocess', 1, 'ft'))[0]!;
  const total = sizes.warmupTurns + sizes.firstTokenTurns;
  for (const runner of [ours, theirs])
    harness.platform.fakeModel.setScript(runner.model, Array.from({ length: total }, text));
  const samples = {
    ours: [] as number[],
    peer: [] as number[],
    oursTurn: [] as number[],
    peerTurn: [] as number[],
    oursAccepted: [] as number[],
    peerAccepted: [] as number[],
  };
  const noDelta = { ours: 0, peer: 0 };
  const loadBefore = loadAverage();
  for (let turn = 0; turn < total; turn++) {
    for (const [name, runner] of [
      ['ours', ours],
      ['peer', theirs],
    ] as const) {
      await pause();
      const marks = await runner.turn(`question ${turn}`);
      if (marks.error || marks.firstToken === undefined) throw new Error(`${name} turn ${turn}: ${marks.error}`);
      if (turn < sizes.warmupTurns) continue;
      if (marks.noDelta) noDelta[name]++;
      samples[name].push(marks.firstToken - marks.started);
      samples[`${name}Turn`].push(marks.ended - marks.started);
      samples[`${name}Accepted`].push((marks.accepted ?? NaN) - marks.started);
    }
  }
  return {
    ours: stats(samples.ours),
    peer: stats(samples.peer),
    oursTurn: stats(samples.oursTurn),
    peerTurn: stats(samples.peerTurn),
    oursAccepted: stats(samples.oursAccepted),
    peerAccepted: stats(samples.peerAccepted),
    turnsWithoutDelta: noDelta,
    loadAverage: { before: loadBefore, after: loadAverage() },
  };
}

/** Runs of `steps` steps with an instant model, one at a time, the three sides taking turns. */
async function perStep() {
  const bySide = new Map<Side, Runner>();
  for (const side of sides) {
    const runner = (await runners(side, 1, 'step'))[0]!;
    harness.platform.fakeModel.setScript(runner.model, stepScript(1, 0));
    const warmup = await runner.turn('warm up'); // ours: creates the sandbox
    if (!completed(warmup, 1)) throw new Error(`${side} warm-up: ${JSON.stringify(warmup)}`);
    bySide.set(side, runner);
  }
  const gaps = new Map<Side, number[]>(sides.map((side) => [side, []]));
  const walls = new Map<Side, number[]>(sides.map((side) => [side, []]));
  const loadBefore = loadAverage();
  for (let run = 0; run < sizes.stepRuns; run++) {
    for (const side of run % 2 === 0 ? sides : [...sides].reverse()) {
      const runner = bySide.get(side)!;
      harness.platform.fakeModel.setScript(runner.model, stepScript(sizes.steps, 0));
      await pause();
      const marks = await runner.turn(`run ${run}`);
      if (!completed(marks, sizes.steps)) throw new Error(`${side} run ${run}: ${JSON.stringify(marks)}`);
      gaps.get(side)!.push(...stepGaps(marks));
      walls.get(side)!.push(marks.ended - marks.started);
    }
  }
  return {
    sides: Object.fromEntries(
      sides.map((side) => [side, { step: stats(gaps.get(side)!), run: stats(walls.get(side)!) }]),
    ) as Record<Side, { step: ReturnType<typeof stats>; run: ReturnType<typeof stats> }>,
    loadAverage: { before: loadBefore, after: loadAverage() },
  };
}

/** `concurrent` runs at once per side and round; rounds alternate the sides' order. */
async function concurrency(): Promise<ConcurrencyRound[]> {
  const bySide = new Map<Side, Runner[]>();
  for (const side of sides) {
    const created = await runners(side, sizes.concurrent, 'conc');
    for (const runner of created) harness.platform.fakeModel.setScript(runner.model, stepScript(1, 0));
    bySide.set(side, created);
    // A cold start under a loaded machine may fail a warm-up turn (e.g. a container create timing out): try again.
    let pending = created;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const warmups = await Promise.all(pending.map((runner) => runner.turn('warm up')));
      const failed = pending.filter((_, index) => !completed(warmups[index]!, 1));
      if (failed.length === 0) break;
      const why = failures(warmups, 1).join('; ');
      if (attempt === 3) throw new Error(`${side}: ${failed.length} warm-up turns failed 3 times: ${why}`);
      console.log(`${side}: ${failed.length} warm-up turns failed (${why}); trying them again`);
      for (const runner of failed) harness.platform.fakeModel.setScript(runner.model, stepScript(1, 0));
      pending = failed;
    }
  }
  const rounds: ConcurrencyRound[] = [];
  for (let round = 0; round < sizes.rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const created = bySide.get(side)!;
      for (const runner of created) {
        harness.platform.fakeModel.setScript(
          runner.model,
          stepScript(sizes.concurrentSteps, sizes.concurrentModelDelayMs),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // let the previous round's stragglers settle
      const loadBefore = loadAverage();
      const cpuBefore = readCpu(sources);
      const started = performance.now();
      const all = await Promise.all(created.map((runner) => runner.turn(`round ${round}`)));
      const wallSeconds = (performance.now() - started) / 1000;
      const cpuSeconds = cpuSpent(cpuBefore, readCpu(sources));
      const done = all.filter((marks) => completed(marks, sizes.concurrentSteps)).length;
      rounds.push({
        side,
        round,
        runs: created.length,
        completed: done,
        errors: all.filter((marks) => marks.error).length,
        failures: failures(all, sizes.concurrentSteps),
        wallSeconds: Math.round(wallSeconds * 100) / 100,
        stepsPerSecond: Math.round(((done * sizes.concurrentSteps) / wallSeconds) * 10) / 10,
        step: stats(all.flatMap(stepGaps)),
        run: stats(all.map((marks) => marks.ended - marks.started)),
        cpuSeconds,
        loadAverage: { before: loadBefore, after: loadAverage() },
      });
      console.log(JSON.stringify(rounds.at(-1)));
    }
  }
  return rounds;
}

it.skipIf(!cli)('runs the same agent on our platform and on LangGraph’s local server', async () => {
  const loadAtStart = loadAverage();
  const first = await firstToken();
  console.log(JSON.stringify(first));
  const steps = await perStep();
  console.log(JSON.stringify(steps));
  const rounds = await concurrency();
  writePeerResult({
    sizes,
    peer: { langgraphApi: peer.version, jobsPerWorker: sizes.concurrent + 10 },
    loadAverage: { start: loadAtStart, end: loadAverage() },
    firstToken: first,
    perStep: steps,
    concurrency: rounds,
  });
});
