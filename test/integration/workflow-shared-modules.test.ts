// The session workflows' bundle preloads zod (workflows/shared-modules.ts): a workflow the reusable V8 context creates
// must find zod in the thread's shared modules, not evaluate its own copy (each copy is CPU at a session's first
// workflow task and ~0.6 MB kept per cached session). Loaded the way the SDK's workflow thread loads the bundle.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, inject, it } from 'vitest';

const require = createRequire(import.meta.url);
const { ReusableVMWorkflowCreator } = require('@temporalio/worker/lib/workflow/reusable-vm') as {
  ReusableVMWorkflowCreator: {
    create(bundle: unknown, timeoutMs: number, activityNames: Set<string>, patch: undefined): Promise<Creator>;
  };
};
const { parseWorkflowCode } = require('@temporalio/worker/lib/worker') as {
  parseWorkflowCode(this: void, code: string, codePath: string): unknown;
};

interface Creator {
  context: { __TEMPORAL_ACTIVATOR__?: { moduleCache: Map<string, unknown> } };
  createWorkflow(options: unknown): Promise<{ dispose(): Promise<void> }>;
  destroy(): Promise<void>;
}

const workflowOptions = (runId: string) => ({
  info: {
    workflowId: `shared-modules-${runId}`,
    runId,
    workflowType: 'sessionWorkflow',
    searchAttributes: {},
    taskQueue: 'shared-modules',
    namespace: 'default',
    firstExecutionRunId: runId,
    originalExecutionRunId: runId,
    startTime: new Date(0),
    runStartTime: new Date(0),
    taskTimeoutMs: 10_000,
    attempt: 1,
    historyLength: 3,
    historySize: 0,
    continueAsNewSuggested: false,
    currentBuildId: '',
    unsafe: { now: () => 0, isReplaying: false, isReplayingHistoryEvents: false, random: () => 0 },
  },
  randomnessSeed: [1, 2, 3, 4],
  now: 0,
  showStackTraceSources: false,
  failureExceptionTypeNames: [],
});

it('evaluates zod once per workflow thread: no workflow keeps a module of its own', async () => {
  const path = inject('workflowBundlePath');
  const creator = await ReusableVMWorkflowCreator.create(
    parseWorkflowCode(readFileSync(path, 'utf8'), path),
    5_000,
    new Set(),
    undefined,
  );
  try {
    for (const runId of ['first', 'second']) {
      const workflow = await creator.createWorkflow(workflowOptions(runId));
      const ownModules = [...(creator.context.__TEMPORAL_ACTIVATOR__?.moduleCache.keys() ?? [])];
      // The workflow did evaluate its own modules (the session workflow's), so the check below means something.
      expect(ownModules).toContain('./workflows/session-workflow.ts');
      expect(ownModules.filter((id) => id.includes('/node_modules/zod/'))).toEqual([]);
      await workflow.dispose();
    }
  } finally {
    await creator.destroy();
  }
});
