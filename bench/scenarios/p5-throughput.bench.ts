// P5: sessions started with one turn each, per second, against a plain Temporal workflow with two activities, in the
// same run on the same Temporal dev server and the same process. Both run `count` items with `concurrency` in flight.
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession, turnEnds } from '../../test/support/workflow-session.ts';
import { createPlainActivities } from '../support/plain-activities.ts';
import { ratio, stats, statsHeader, statsRow, writeResult } from '../support/results.ts';

const count = Number(process.env.BENCH_P5_COUNT ?? '150');
const concurrency = Number(process.env.BENCH_P5_CONCURRENCY ?? '10');
const rounds = 3;
const target = 0.5;

let platform: TestPlatform;
let plainWorker: Worker;
let plainConnection: NativeConnection;
let plainRun: Promise<void>;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'bench-p5', workers: ['session', 'model'] });
  plainConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  plainWorker = await Worker.create({
    connection: plainConnection,
    taskQueue: `${platform.prefix}-plain`,
    workflowsPath: new URL('../support/plain-workflow.ts', import.meta.url).pathname,
    activities: createPlainActivities(),
    dataConverter: platform.dataConverter,
  });
  plainRun = plainWorker.run();
});
afterAll(async () => {
  plainWorker?.shutdown();
  await plainRun;
  await plainConnection?.close();
  await platform?.stop();
});

/** Runs `total` jobs with at most `limit` at once; returns each job's latency and the wall time of the whole batch. */
async function runBatch(total: number, limit: number, job: (index: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < total) {
        const index = next++;
        const jobStarted = performance.now();
        await job(index);
        latencies.push(performance.now() - jobStarted);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: Math.round((total / seconds) * 100) / 100, latencies };
}

it('measures session start + one turn throughput against a plain two-activity workflow', async () => {
  const sessionRates: number[] = [];
  const plainRates: number[] = [];
  const sessionLatencies: number[] = [];
  const plainLatencies: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const model = `${platform.prefix}-p5-${round}`;
    platform.fakeModel.setScript(
      model,
      Array.from({ length: count }, () => ({ text: 'Hello.' })),
    );
    const agent = agentSnapshot({ model: { id: model }, tools: [] });
    // Alternate which goes first so neither always runs on a warmer server.
    const sessions = async () => {
      const result = await runBatch(count, concurrency, async () => {
        const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
        await session.message('hello');
        for (;;) {
          if (turnEnds(await session.events()) >= 1) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      sessionRates.push(result.perSecond);
      sessionLatencies.push(...result.latencies);
    };
    const plain = async () => {
      const result = await runBatch(count, concurrency, async (index) => {
        await platform.client.workflow.execute('plainTwoActivityWorkflow', {
          taskQueue: `${platform.prefix}-plain`,
          workflowId: `${platform.prefix}-plain-${round}-${index}`,
          args: [`item-${index}`],
        });
      });
      plainRates.push(result.perSecond);
      plainLatencies.push(...result.latencies);
    };
    if (round % 2 === 0) {
      await sessions();
      await plain();
    } else {
      await plain();
      await sessions();
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  const sessionRate = median(sessionRates);
  const plainRate = median(plainRates);
  const result = ratio(sessionRate, plainRate);
  writeResult(
    'p5-throughput',
    {
      count,
      concurrency,
      rounds,
      target,
      sessionsPerSecond: sessionRates,
      plainWorkflowsPerSecond: plainRates,
      ratio: result,
      sessionLatency: stats(sessionLatencies),
      plainLatency: stats(plainLatencies),
    },
    [
      '## P5: session start + one turn, throughput',
      '',
      `${rounds} rounds; in each, ${count} sessions (start the workflow, signal a \`user.message\`, wait for the ` +
        'end of the turn in the journal; fake model answers at once) and ' +
        `${count} plain workflows with two trivial activities, ${concurrency} in flight, alternating which goes first.`,
      '',
      '| per second | round 1 | round 2 | round 3 | median |',
      '| --- | --- | --- | --- | --- |',
      `| sessions with one turn | ${sessionRates.join(' | ')} | ${sessionRate} |`,
      `| plain two-activity workflows | ${plainRates.join(' | ')} | ${plainRate} |`,
      '',
      `**Ratio ${result}×** (median / median; per round ` +
        `${sessionRates.map((rate, index) => ratio(rate, plainRates[index] ?? NaN)).join(', ')}); ` +
        `target ≥ ${target}× — **${result >= target ? 'met' : 'missed'}**.`,
      '',
      ...statsHeader,
      statsRow('latency of one session + turn', stats(sessionLatencies)),
      statsRow('latency of one plain workflow', stats(plainLatencies)),
    ],
  );
});
