// bench/results/peer-langgraph.json and its section of bench/results/README.md, for
// bench/scenarios/peer-langgraph.bench.ts.
import { ratio, statsHeader, statsRow, writeResult, type Stats } from '../support/results.ts';

/** Our platform, or the LangGraph peer with its tool as a host subprocess or a `docker exec`. */
export type Side = 'ours' | 'peer-subprocess' | 'peer-docker';

export interface ConcurrencyRound {
  side: Side;
  round: number;
  runs: number;
  completed: number;
  errors: number;
  /** Why the runs that did not complete did not (distinct, the first few). */
  failures: string[];
  wallSeconds: number;
  stepsPerSecond: number;
  step: Stats;
  run: Stats;
  cpuSeconds: Record<string, number>;
  loadAverage: { before: string; after: string };
}

export interface PeerResult {
  sizes: {
    firstTokenTurns: number;
    warmupTurns: number;
    stepRuns: number;
    steps: number;
    concurrent: number;
    concurrentSteps: number;
    concurrentModelDelayMs: number;
    rounds: number;
    pauseMs: number;
  };
  peer: { langgraphApi: string; jobsPerWorker: number };
  loadAverage: { start: string; end: string };
  firstToken: {
    ours: Stats;
    peer: Stats;
    oursTurn: Stats;
    peerTurn: Stats;
    oursAccepted: Stats;
    peerAccepted: Stats;
    /** Turns whose text arrived without a delta before it (counted from the whole message). */
    turnsWithoutDelta: { ours: number; peer: number };
    loadAverage: { before: string; after: string };
  };
  perStep: { sides: Record<Side, { step: Stats; run: Stats }>; loadAverage: { before: string; after: string } };
  concurrency: ConcurrencyRound[];
}

const sideNames: Record<Side, string> = {
  ours: 'ours (Docker sandbox, exec agent)',
  'peer-subprocess': 'LangGraph, tool = host subprocess',
  'peer-docker': 'LangGraph, tool = `docker exec`',
};

/** Per side, the concurrency rounds' figures summed (wall, steps) for one steps/s over all rounds. */
export function throughputBySide(rounds: ConcurrencyRound[], stepsPerRun: number): Record<string, number> {
  const bySide: Record<string, { steps: number; seconds: number }> = {};
  for (const round of rounds) {
    const entry = (bySide[round.side] ??= { steps: 0, seconds: 0 });
    entry.steps += round.completed * stepsPerRun;
    entry.seconds += round.wallSeconds;
  }
  return Object.fromEntries(
    Object.entries(bySide).map(([side, { steps, seconds }]) => [side, Math.round((steps / seconds) * 10) / 10]),
  );
}

const cpuPerStepMs = (round: ConcurrencyRound, stepsPerRun: number) => {
  const counted = Object.entries(round.cpuSeconds).filter(([name]) => !name.includes('machine-wide'));
  const seconds = counted.reduce((sum, [, value]) => sum + value, 0);
  return Math.round((seconds * 1000) / Math.max(1, round.completed * stepsPerRun));
};

export function writePeerResult(result: PeerResult): void {
  const { sizes, firstToken, perStep, concurrency } = result;
  const throughput = throughputBySide(concurrency, sizes.concurrentSteps);
  const cpuNames = Object.keys(concurrency[0]?.cpuSeconds ?? {});
  writeResult(
    'peer-langgraph',
    { ...result, throughput },
    [
      '## Peer: LangGraph’s local server, side by side',
      '',
      'The same scripted agent on both: the fake model (OpenAI Chat Completions endpoint on both sides) answers each ' +
        'step with one `bash` call running `true`, then a final answer. **Ours**: an agent with `openai-chat` and bash ' +
        'alone, driven through the official Anthropic SDK (`client.beta.sessions.events.send`, and one ' +
        '`events.stream` per session with `event_deltas`), in-process API and workers on the real Temporal dev server ' +
        'and PostgreSQL; the tool runs in the session’s Docker sandbox through the in-sandbox exec agent. **Peer**: ' +
        `\`langgraph dev\` (langgraph-api ${result.peer.langgraphApi}, in-memory runtime, ` +
        `${result.peer.jobsPerWorker} jobs per worker, no reload) serving bench/peer/langgraph/agent.py — a model node ` +
        '(langchain-openai `ChatOpenAI`, streaming) and a prebuilt `ToolNode` whose `bash` tool runs either as a ' +
        'subprocess on the host (`bash -c`, no isolation at all) or by `docker exec` into an already running container ' +
        'of our sandbox image — driven through its HTTP API (`POST /threads/:id/runs/stream`, stream modes ' +
        '`messages-tuple` + `updates`). Both clients time frames as they are parsed. Sides are interleaved in one run ' +
        'so they share the machine’s load; sandboxes and containers are started before the clock on both sides.',
      '',
      '**Not like for like**: the peer keeps runs, threads and checkpoints in its process’s memory (its dev mode pickles ' +
        'them to a local folder now and then); a crash loses every run in flight, and nothing resumes it. Ours journals ' +
        'every step to PostgreSQL and Temporal history, so a killed worker, API or model call resumes where it stopped ' +
        '(test/faults/). That durability is most of what ours spends per step.',
      '',
      `### First token (text-only turns, one at a time, ${sizes.firstTokenTurns} per side after ${sizes.warmupTurns} warm-up, alternating)`,
      '',
      'From the request (ours: `POST …/events` with the stream already open; peer: `POST …/runs/stream`, which opens ' +
        'the stream) to the first text delta at the client; the fake model’s first token is immediate.',
      '',
      ...statsHeader,
      statsRow('ours: `POST …/events` returned', firstToken.oursAccepted),
      statsRow('peer: `metadata` frame (run picked up and started)', firstToken.peerAccepted),
      statsRow('**ours: first delta**', firstToken.ours),
      statsRow('**peer: first token**', firstToken.peer),
      statsRow('ours: whole turn (to `session.status_idle`)', firstToken.oursTurn),
      statsRow('peer: whole run (to the stream’s end)', firstToken.peerTurn),
      '',
      `Turns whose text came with no delta before it (counted from the whole message): ours ` +
        `${firstToken.turnsWithoutDelta.ours}, peer ${firstToken.turnsWithoutDelta.peer}. ` +
        `Ours / peer, p50: ${ratio(firstToken.ours.p50, firstToken.peer.p50)}×. Load average ${firstToken.loadAverage.before} → ${firstToken.loadAverage.after}.`,
      '',
      'Most of the peer’s first-token time is before its run starts: the in-memory runtime hands runs to its workers ' +
        'by polling its queue, sleeping 0.5 s after an empty poll (`Runs.next` in langgraph_runtime_inmem/ops.py), so a ' +
        'run posted to an idle server waits up to half a second for the poll alone (the `metadata` row; where the ' +
        'rest of its time goes was not profiled). The wait is a property of the in-memory runtime: it applies once per ' +
        'run, not between steps; LangGraph’s licensed production runtime (PostgreSQL and Redis) is not measured here.',
      '',
      `### Per step (runs of ${sizes.steps} steps, instant model, ${sizes.stepRuns} runs per side, sides taking turns)`,
      '',
      'Step = the time between two successive tool results at the client: one model call, one `bash: true`, and ' +
        'everything the platform does around them.',
      '',
      ...statsHeader,
      ...Object.entries(perStep.sides).flatMap(([side, figures]) => [
        statsRow(`**${sideNames[side as Side]}: step**`, figures.step),
        statsRow(`${sideNames[side as Side]}: whole run`, figures.run),
      ]),
      '',
      `Ours / peer step p50: ${ratio(perStep.sides.ours.step.p50, perStep.sides['peer-subprocess'].step.p50)}× the ` +
        `subprocess peer, ${ratio(perStep.sides.ours.step.p50, perStep.sides['peer-docker'].step.p50)}× the ` +
        `\`docker exec\` peer. Load average ${perStep.loadAverage.before} → ${perStep.loadAverage.after}.`,
      '',
      `### ${sizes.concurrent} runs at once (${sizes.concurrentSteps} steps each, model ${sizes.concurrentModelDelayMs} ms per call, ${sizes.rounds} rounds, order reversed each round)`,
      '',
      '| side | round | completed | errors | wall | steps/s | step p50 | step p95 | run p95 | CPU ms / step | load before → after |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...concurrency.map(
        (round) =>
          `| ${sideNames[round.side]} | ${round.round + 1} | ${round.completed}/${round.runs} | ${round.errors} | ` +
          `${round.wallSeconds} s | **${round.stepsPerSecond}** | ${round.step.p50} ms | ${round.step.p95} ms | ` +
          `${round.run.p95} ms | ${cpuPerStepMs(round, sizes.concurrentSteps)} | ${round.loadAverage.before} → ${round.loadAverage.after} |`,
      ),
      '',
      `Steps/s over all rounds: ${Object.entries(throughput)
        .map(([side, value]) => `${sideNames[side as Side]} ${value}`)
        .join('; ')}. CPU ms / step sums the processes below but the machine-wide Docker daemons.`,
      '',
      ...concurrency
        .filter((round) => round.failures.length > 0)
        .map(
          (round) =>
            `Not completed, ${sideNames[round.side]} round ${round.round + 1}: ${round.failures.map((failure) => `\`${failure.replaceAll('`', "'")}\``).join('; ')}.`,
        ),
      '',
      'CPU seconds by process in each round:',
      '',
      `| process | ${concurrency.map((round) => `${round.side} r${round.round + 1}`).join(' | ')} |`,
      `| --- | ${concurrency.map(() => '---').join(' | ')} |`,
      ...cpuNames.map((name) => `| ${name} | ${concurrency.map((round) => round.cpuSeconds[name]).join(' | ')} |`),
    ],
    'npm run bench -- peer',
  );
}
