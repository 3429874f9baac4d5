// The session workflows' bundle preloads zod and the domain modules (workflows/shared-modules.ts): a workflow the
// reusable V8 context creates must find them in the thread's shared modules, not evaluate its own copies (each copy is
// CPU at a session's first workflow task and heap kept per cached session: bench P4′). Loaded the way the SDK's
// workflow thread loads the bundle.
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
  context: {
    __TEMPORAL_ACTIVATOR__?: { moduleCache: Map<string, unknown> };
    __webpack_module_cache__: Record<string, { exports: Record<string, unknown> } | undefined>;
  };
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

const createCreator = () => {
  const path = inject('workflowBundlePath');
  return ReusableVMWorkflowCreator.create(
    parseWorkflowCode(readFileSync(path, 'utf8'), path),
    5_000,
    new Set(),
    undefined,
  );
};

it('evaluates zod and the domain modules once per workflow thread: no workflow keeps a copy of its own', async () => {
  const creator = await createCreator();
  try {
    for (const runId of ['first', 'second']) {
      const workflow = await creator.createWorkflow(workflowOptions(runId));
      const ownModules = [...(creator.context.__TEMPORAL_ACTIVATOR__?.moduleCache.keys() ?? [])];
      // The workflow did evaluate its own modules (the session workflow's), so the check below means something.
      expect(ownModules).toContain('./workflows/session-workflow.ts');
      expect(ownModules.filter((id) => id.includes('/node_modules/zod/'))).toEqual([]);
      // A domain module listed here is missing from workflows/shared-modules.ts.
      expect(ownModules.filter((id) => id.startsWith('./domain/'))).toEqual([]);
      await workflow.dispose();
    }
  } finally {
    await creator.destroy();
  }
});

it('keeps shared schemas usable after the SDK froze the shared modules', async () => {
  const creator = await createCreator();
  const workflow = await creator.createWorkflow(workflowOptions('frozen'));
  try {
    const shared = creator.context.__webpack_module_cache__['./domain/inline-agents.ts']?.exports;
    const schema = shared?.inlineAgentInput as
      | { safeParse(value: unknown): { success: boolean }; optional(): { safeParse(value: unknown): unknown } }
      | undefined;
    expect(Object.isFrozen(schema)).toBe(true);
    // A method read for the first time, a regex check (zod resets the pattern's lastIndex), a derived schema.
    expect(schema?.safeParse({ name: 'helper' }).success).toBe(true);
    expect(schema?.safeParse({ name: '-bad' }).success).toBe(false);
    expect(schema?.optional().safeParse(undefined)).toMatchObject({ success: true });
  } finally {
    await workflow.dispose();
    await creator.destroy();
  }
});
