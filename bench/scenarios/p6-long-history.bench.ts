// P6: a 300-turn session with 10 KB of tool output per turn: bytes of Temporal history (every run, as stored, through
// continue-as-new) against bytes of content, and the largest single payload. Same method as test/session-long.test.ts.
import proto from '@temporalio/proto';
import { afterAll, beforeAll, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';
import { agentSnapshot, fastSettings, SessionDriver, turnEnds } from '../../test/support/session-driver.ts';
import { ratio, writeResult } from '../support/results.ts';

const { temporal } = proto;
const turns = Number(process.env.BENCH_P6_TURNS ?? '300');
const toolBytes = 10 * 1024;
const targets = { historyToContent: 2, largestPayloadBytes: 256 * 1024 };

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'bench-p6', workers: ['session', 'model', 'backend'] });
});
afterAll(async () => {
  await platform?.stop();
});

it('measures history growth of a 300-turn session', async () => {
  const model = `${platform.prefix}-p6`;
  platform.fakeModel.setScript(
    model,
    Array.from({ length: turns }, (_, turn) => [
      { toolCalls: [{ name: 'generate_report', input: { bytes: toolBytes, marker: `tool-${turn}` } }] },
      { text: `answer-${turn}` },
    ]).flat(),
  );
  const agent = agentSnapshot({
    model: { id: model },
    tools: [
      {
        type: 'backend',
        name: 'generate_report',
        description: 'Generate a report',
        input_schema: { type: 'object', properties: { bytes: { type: 'integer' }, marker: { type: 'string' } } },
        task_queue: platform.backendQueue,
        activity: 'generateReport',
      },
    ],
  });
  const session = await new SessionDriver(platform, agent, fastSettings(platform.prefix)).start();
  const started = performance.now();
  for (let turn = 0; turn < turns; turn++) {
    await session.message(`question-${turn}`);
    await session.waitFor(`turn ${turn + 1}`, (events) => turnEnds(events) >= turn + 1, 60_000);
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;

  const service = platform.client.workflowService;
  const workflowId = sessionWorkflowId(session.sessionId);
  const runs = await service.listWorkflowExecutions({ namespace: 'default', query: `WorkflowId = '${workflowId}'` });
  const perRun: Array<{ runId: string; bytes: number; events: number }> = [];
  let largestPayload = 0;
  for (const execution of runs.executions) {
    const runId = execution.execution?.runId ?? '';
    let bytes = 0;
    let events = 0;
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await service.getWorkflowExecutionHistory({
        namespace: 'default',
        execution: { workflowId, runId },
        nextPageToken,
      });
      bytes += temporal.api.history.v1.History.encode(page.history ?? {}).finish().length;
      events += page.history?.events?.length ?? 0;
      for (const size of payloadSizes(page.history?.events ?? [])) largestPayload = Math.max(largestPayload, size);
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    perRun.push({ runId, bytes, events });
  }
  await session.terminate();
  const historyBytes = perRun.reduce((sum, run) => sum + run.bytes, 0);
  const contentBytes = turns * toolBytes;
  const historyToContent = ratio(historyBytes, contentBytes);
  writeResult(
    'p6-long-history',
    { turns, toolBytes, targets, seconds, runs: perRun, historyBytes, contentBytes, historyToContent, largestPayload },
    [
      '## P6: history growth of a 300-turn session',
      '',
      `${turns} turns, each a backend tool call returning ${toolBytes / 1024} KB and a short answer, one session ` +
        `(${seconds} s). History bytes are every run's history as Temporal stores it (protobuf, encrypted payloads), ` +
        'summed over continue-as-new.',
      '',
      '| figure | value |',
      '| --- | --- |',
      `| runs (continue-as-new) | ${perRun.length} |`,
      `| history events | ${perRun.reduce((sum, run) => sum + run.events, 0)} |`,
      `| history bytes | ${historyBytes} |`,
      `| content bytes (tool output) | ${contentBytes} |`,
      `| largest payload | ${largestPayload} bytes |`,
      '',
      `**History / content ${historyToContent}×**; target ≤ ${targets.historyToContent}× — ` +
        `**${historyToContent <= targets.historyToContent ? 'met' : 'missed'}**. Largest payload ` +
        `${Math.round(largestPayload / 102.4) / 10} KB; target ≤ 256 KB — ` +
        `**${largestPayload <= targets.largestPayloadBytes ? 'met' : 'missed'}**.`,
    ],
  );
});

function payloadSizes(events: proto.temporal.api.history.v1.IHistoryEvent[]): number[] {
  const sizes: number[] = [];
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    if (value instanceof Uint8Array) return;
    if ('data' in value && 'metadata' in value && (value as { data?: unknown }).data instanceof Uint8Array) {
      sizes.push((value as { data: Uint8Array }).data.length);
      return;
    }
    for (const child of Object.values(value)) visit(child);
  };
  for (const event of events) visit(event);
  return sizes;
}
