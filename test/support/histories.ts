// Recorded histories for the replay gate (test/replay/replay.test.ts). Scenario tests call recordHistory at their end; it
// writes only when RECORD_HISTORIES=1 (`RECORD_HISTORIES=1 npm test -- <files>`), so a normal run never changes them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { projectRoot } from '../../scripts/services/tools-env.ts';

export const historiesDir = join(projectRoot, 'test', 'histories');
export const recording = process.env.RECORD_HISTORIES === '1';

/** Saves every run of a workflow (continue-as-new chains included) as test/histories/<name>[-run<n>].json. */
export async function recordHistory(client: Client, workflowId: string, name: string): Promise<void> {
  if (!recording) return;
  mkdirSync(historiesDir, { recursive: true });
  const runs = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(execution);
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  for (const [index, run] of runs.entries()) {
    const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
    const file = runs.length > 1 ? `${name}-run${index + 1}.json` : `${name}.json`;
    writeFileSync(join(historiesDir, file), historyToJSON(history));
  }
}
