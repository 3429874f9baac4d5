// The replay gate: every history recorded from a real run (test/histories, one per branch of the loop) must replay
// against the current workflow code. A change that alters command order fails here until it is behind patched().
// A deliberately non-deterministic variant of the workflow shows the gate catches what it must.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { platformFailureConverterPath } from '../../codec/data-converter.ts';
import { workflowBundlerOptions } from '../../workers/workflow-bundler.ts';
import {
  batchPerActivationPatch,
  drainAfterSettlePatch,
  handOffAfterWritePatch,
  handOffPatch,
} from '../../workflows/event-journal.ts';
import { queueAtTurnStartPatch, validateRunnerInputPatch } from '../../workflows/runner-work.ts';
import { repositoryErrorsPatch } from '../../workflows/sandbox-lease.ts';
import { openAiAgentsHarnessPatch } from '../../workflows/openai-agents/selection.ts';
import { regionPlacementPatch } from '../../workflows/region-placement.ts';
import { validateToolInputPatch } from '../../workflows/tool-execution.ts';
import { sharedThreadSandboxPatch } from '../../workflows/thread-sandbox.ts';
import { compactionUsagePatch } from '../../workflows/compaction.ts';
import { foldedPatchesPatch } from '../../workflows/folded-patches.ts';
import { lostCallPatch } from '../../workflows/model-call.ts';
import { historiesDir } from '../support/histories.ts';
import { testDataConverter } from '../support/platform.ts';

const files = readdirSync(historiesDir)
  .filter((file) => file.endsWith('.json'))
  .sort();
const load = (file: string) => ({
  workflowId: file.replace(/\.json$/, ''),
  history: historyFromJSON(JSON.parse(readFileSync(join(historiesDir, file), 'utf8'))),
});

let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl') });
});
afterAll(async () => {
  await pool?.end();
});

describe('replay gate', () => {
  it('has recorded histories for every branch of the loop', () => {
    const names = files.join(' ');
    for (const branch of [
      'engine-anthropic',
      'sub-agent',
      'model-retry',
      'model-exhausted',
      'continue-as-new',
      'sandbox-lifecycle',
      'invalid-tool-input',
      'self-hosted-runner',
      'user-events-update',
      'openai-agents-harness',
    ]) {
      expect(names, `a history for ${branch}`).toContain(branch);
    }
  });

  it('covers both sides of every patch: histories recorded before it and after it', () => {
    const patchesOf = (file: string) =>
      (load(file).history.events ?? []).flatMap((event) => {
        const marker = event.markerRecordedEventAttributes;
        const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : null;
        return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
      });
    for (const patch of [
      batchPerActivationPatch,
      handOffPatch,
      handOffAfterWritePatch,
      drainAfterSettlePatch,
      validateToolInputPatch,
      queueAtTurnStartPatch,
      validateRunnerInputPatch,
      repositoryErrorsPatch,
      sharedThreadSandboxPatch,
      compactionUsagePatch,
      openAiAgentsHarnessPatch,
      regionPlacementPatch,
      foldedPatchesPatch,
      lostCallPatch,
    ]) {
      expect(files.filter((file) => patchesOf(file).includes(patch)).length, `after ${patch}`).toBeGreaterThan(0);
      expect(files.filter((file) => !patchesOf(file).includes(patch)).length, `before ${patch}`).toBeGreaterThan(0);
    }
  });

  it.each(files)('%s replays against the current workflow code', async (file) => {
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: inject('workflowBundlePath') },
        dataConverter: testDataConverter(pool),
      },
      load(file).history,
      load(file).workflowId,
    );
  });

  it('catches a non-deterministic change', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: join(import.meta.dirname, '..', 'fixtures', 'nondeterministic', 'index.ts'),
      failureConverterPath: platformFailureConverterPath,
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
      ...workflowBundlerOptions,
    });
    const file = files.find((name) => name.startsWith('engine-anthropic'))!;
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: testDataConverter(pool) }, load(file).history),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
