// A long session: 300 turns with 10 KB of tool output each. History must grow linearly with content (the transcript
// is read from the journal, never re-sent through history), no payload may come near Temporal's limits, the run
// continues-as-new when Temporal suggests it, and history holds no plaintext of the conversation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import proto from '@temporalio/proto';
import { readEvents } from '../activities/store/event-reader.ts';
import { sessionWorkflowId } from '../domain/ids.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';
import { agentSnapshot, fastSettings, SessionDriver, turnEnds } from './support/session-driver.ts';

const { temporal } = proto;

const turns = 300;
const toolBytes = 10 * 1024;

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'long', workers: ['session', 'model', 'backend'] });
});
afterAll(async () => {
  await platform?.stop();
});

describe('a 300-turn session', () => {
  it(
    'completes with linear history, small payloads, continue-as-new and no plaintext in history',
    { timeout: 600_000 },
    async () => {
      const model = `${platform.prefix}-long`;
      const marker = `CONVERSATION-MARKER-${platform.prefix}`;
      platform.fakeModel.setScript(
        model,
        Array.from({ length: turns }, (_, turn) => [
          { toolCalls: [{ name: 'generate_report', input: { bytes: toolBytes, marker: `${marker}-tool-${turn}` } }] },
          { text: `${marker}-answer-${turn}` },
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
      for (let turn = 0; turn < turns; turn++) {
        await session.message(`${marker}-question-${turn}`);
        await session.waitFor(`turn ${turn + 1}`, (events) => turnEnds(events) >= turn + 1, 60_000);
      }

      // The event log is complete and ordered across runs.
      const journaled = await readEvents(platform.pool, session.sessionId);
      expect(journaled.map((entry) => entry.seq)).toEqual(journaled.map((_, index) => index + 1));
      expect(new Set(journaled.map((entry) => entry.event.id)).size).toBe(journaled.length);
      expect(journaled.filter((entry) => entry.event.type === 'agent.tool_result')).toHaveLength(turns);

      // Every run's raw history, as Temporal stores it (no codec).
      const service = platform.client.workflowService;
      const workflowId = sessionWorkflowId(session.sessionId);
      const runs = await service.listWorkflowExecutions({
        namespace: 'default',
        query: `WorkflowId = '${workflowId}'`,
      });
      const runIds = runs.executions.map((execution) => execution.execution?.runId ?? '');
      let historyBytes = 0;
      let largestPayload = 0;
      let historyEvents = 0;
      const raw: Buffer[] = [];
      for (const runId of runIds) {
        let nextPageToken: Uint8Array | undefined;
        do {
          const page = await service.getWorkflowExecutionHistory({
            namespace: 'default',
            execution: { workflowId, runId },
            nextPageToken,
          });
          const bytes = Buffer.from(temporal.api.history.v1.History.encode(page.history ?? {}).finish());
          historyBytes += bytes.length;
          raw.push(bytes);
          historyEvents += page.history?.events?.length ?? 0;
          for (const size of payloadSizes(page.history?.events ?? [])) largestPayload = Math.max(largestPayload, size);
          nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
        } while (nextPageToken);
      }
      const contentBytes = turns * toolBytes;
      console.log(
        `300-turn session: ${runIds.length} runs, ${historyEvents} history events, history ${historyBytes} bytes for ` +
          `${contentBytes} bytes of tool output (${(historyBytes / contentBytes).toFixed(2)}x), largest payload ${largestPayload} bytes`,
      );
      expect(runIds.length).toBeGreaterThan(1); // continued-as-new when Temporal suggested it
      expect(largestPayload).toBeLessThan(256 * 1024);
      expect(historyBytes).toBeLessThan(3 * contentBytes); // linear, not quadratic (quadratic would be ~150x)
      const everything = Buffer.concat(raw).toString('latin1');
      expect(everything).not.toContain(marker);
      await session.terminate();
    },
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
