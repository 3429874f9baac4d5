// P6′: a 300-turn session with 10 KB of tool output per turn: bytes of Temporal history (every run, as stored, through
// continue-as-new) against bytes of content, and the largest single payload. Same method as test/integration/session-long.test.ts.
// BENCH_P6_CONTENT=random makes the tool output base64 of random bytes (the worst case for payload compression) and
// writes p6-long-history-random instead.
import { afterAll, beforeAll, it } from 'vitest';
import { measureHistory, runLongSession } from '../../test/support/long-session.ts';
import { startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';
import { ratio, writeResult } from '../support/results.ts';

const turns = Number(process.env.BENCH_P6_TURNS ?? '300');
const toolBytes = 10 * 1024;
const randomContent = process.env.BENCH_P6_CONTENT === 'random';
const targets = { historyToContent: 1.5, largestPayloadBytes: 256 * 1024 };

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'bench-p6', workers: ['session', 'model', 'backend'] });
});
afterAll(async () => {
  await platform?.stop();
});

it('measures history growth of a 300-turn session', async () => {
  const started = performance.now();
  const session = await runLongSession(platform, { turns, toolBytes, marker: 'p6', randomContent });
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const { runs: perRun, historyBytes, largestPayload } = await measureHistory(platform.client, session.sessionId);
  await session.terminate();
  const contentBytes = turns * toolBytes;
  const historyToContent = ratio(historyBytes, contentBytes);
  const content = randomContent ? 'base64 of random bytes' : 'repeated report lines';
  writeResult(
    randomContent ? 'p6-long-history-random' : 'p6-long-history',
    {
      turns,
      toolBytes,
      content,
      targets,
      seconds,
      runs: perRun,
      historyBytes,
      contentBytes,
      historyToContent,
      largestPayload,
    },
    [
      `## P6′: history growth of a 300-turn session (${content})`,
      '',
      `${turns} turns, each a backend tool call returning ${toolBytes / 1024} KB of ${content} and a short answer, ` +
        `one session (${seconds} s). History bytes are every run's history as Temporal stores it (protobuf, payloads ` +
        'Brotli-compressed when that shrinks them, then encrypted), summed over continue-as-new. ' +
        `Command: \`${randomContent ? 'BENCH_P6_CONTENT=random ' : ''}npm run bench -- p6\`.`,
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
