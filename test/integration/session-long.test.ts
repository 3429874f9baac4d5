// A long session: 300 turns with 10 KB of tool output each. History must grow linearly with content (the transcript
// is read from the journal, never re-sent through history), no payload may come near Temporal's limits, the run
// continues-as-new when Temporal suggests it, and history holds no plaintext of the conversation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';
import { measureHistory, runLongSession } from '../support/long-session.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

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
      const marker = `CONVERSATION-MARKER-${platform.prefix}`;
      const session = await runLongSession(platform, { turns, toolBytes, marker });

      // The event log is complete and ordered across runs.
      const journaled = await readEvents(platform.pool, session.sessionId);
      expect(journaled.map((entry) => entry.seq)).toEqual(journaled.map((_, index) => index + 1));
      expect(new Set(journaled.map((entry) => entry.event.id)).size).toBe(journaled.length);
      expect(journaled.filter((entry) => entry.event.type === 'agent.tool_result')).toHaveLength(turns);

      const history = await measureHistory(platform.client, session.sessionId);
      const contentBytes = turns * toolBytes;
      console.log(
        `300-turn session: ${history.runs.length} runs, ${history.historyEvents} history events, history ` +
          `${history.historyBytes} bytes for ${contentBytes} bytes of tool output ` +
          `(${(history.historyBytes / contentBytes).toFixed(2)}x), largest payload ${history.largestPayload} bytes`,
      );
      expect(history.runs.length).toBeGreaterThan(1); // continued-as-new when Temporal suggested it
      expect(history.largestPayload).toBeLessThan(256 * 1024);
      expect(history.historyBytes).toBeLessThan(3 * contentBytes); // linear, not quadratic (quadratic would be ~150x)
      expect(history.raw.toString('latin1')).not.toContain(marker);
      await session.terminate();
    },
  );
});
