// A long session and the size of its Temporal history — shared by test/integration/session-long.test.ts and bench P6.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { isSummariserRequest } from '../fake-model/script.ts';
import type { TestPlatform } from './platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession, turnEnds } from './workflow-session.ts';

const { temporal } = proto;

/**
 * Runs `turns` user turns, each a backend tool call returning `toolBytes` of text and a short answer; the text is
 * repetitive report lines, or with `randomContent` base64 of random bytes (what payload compression cannot shrink much).
 */
export async function runLongSession(
  platform: TestPlatform,
  options: { turns: number; toolBytes: number; marker: string; randomContent?: boolean },
): Promise<WorkflowSession> {
  const model = `${platform.prefix}-long-${options.marker}`;
  platform.fakeModel.setScript(
    model,
    Array.from({ length: options.turns }, (_, turn) => [
      {
        toolCalls: [
          {
            name: 'generate_report',
            input: {
              bytes: options.toolBytes,
              marker: `${options.marker}-tool-${turn}`,
              ...(options.randomContent ? { random: true } : {}),
            },
          },
        ],
      },
      { text: `${options.marker}-answer-${turn}` },
    ]).flat(),
  );
  // Past the model's context window share, older turns are compacted: the summariser's requests get a summary.
  platform.fakeModel.setResponder(model, (body) =>
    isSummariserRequest(body) ? { text: `${options.marker}: summary of the earlier turns` } : undefined,
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
  const session = await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start();
  for (let turn = 0; turn < options.turns; turn++) {
    await session.message(`${options.marker}-question-${turn}`);
    await session.waitFor(`turn ${turn + 1}`, (events) => turnEnds(events) >= turn + 1, 60_000);
  }
  return session;
}

export interface HistoryMeasure {
  runs: Array<{ runId: string; bytes: number; events: number }>;
  historyBytes: number;
  historyEvents: number;
  largestPayload: number;
  /** Every page of every run as Temporal stores it (protobuf), for scanning. */
  raw: Buffer;
}

/** Every run of a session's history (continue-as-new chain), raw as stored — no codec. */
export async function measureHistory(client: Client, sessionId: string): Promise<HistoryMeasure> {
  const service = client.workflowService;
  const workflowId = sessionWorkflowId(sessionId);
  const listing = await service.listWorkflowExecutions({ namespace: 'default', query: `WorkflowId = '${workflowId}'` });
  const runs: HistoryMeasure['runs'] = [];
  const pages: Buffer[] = [];
  let largestPayload = 0;
  for (const execution of listing.executions) {
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
      const encoded = Buffer.from(temporal.api.history.v1.History.encode(page.history ?? {}).finish());
      pages.push(encoded);
      bytes += encoded.length;
      events += page.history?.events?.length ?? 0;
      for (const size of payloadSizes(page.history?.events ?? [])) largestPayload = Math.max(largestPayload, size);
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    runs.push({ runId, bytes, events });
  }
  return {
    runs,
    historyBytes: runs.reduce((sum, run) => sum + run.bytes, 0),
    historyEvents: runs.reduce((sum, run) => sum + run.events, 0),
    largestPayload,
    raw: Buffer.concat(pages),
  };
}

function payloadSizes(events: proto.temporal.api.history.v1.IHistoryEvent[]): number[] {
  const sizes: number[] = [];
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    if ('data' in value && 'metadata' in value && (value as { data?: unknown }).data instanceof Uint8Array) {
      sizes.push((value as { data: Uint8Array }).data.length);
      return;
    }
    for (const child of Object.values(value)) visit(child);
  };
  for (const event of events) visit(event);
  return sizes;
}
