// The shell helper's worker: `node examples/shell-helper/worker.ts [task-queue]` (default `shell-helper`), with the
// platform's configuration (DATABASE_URL, TEMPORAL_ADDRESS, payload keys — as for `npm run worker:session`). Agents
// created with `harness: { type: 'code', name: 'shell-helper', task_queue: '<task-queue>' }` run their sessions here.
import { createAgentWorker } from '../../sdk/worker.ts';
import {
  bootstrapWorkerProcess,
  isMainModule,
  runUntilSignalled,
  workerBaseFromDeps,
} from '../../workers/bootstrap.ts';

export const shellHelperWorkflowsPath = new URL('./agent.ts', import.meta.url).pathname;

if (isMainModule(import.meta.url)) {
  const taskQueue = process.argv[2] ?? 'shell-helper';
  const deps = await bootstrapWorkerProcess('shell-helper-worker');
  const worker = await createAgentWorker({
    ...workerBaseFromDeps(deps),
    taskQueue,
    workflowsPath: shellHelperWorkflowsPath,
  });
  deps.logger.info({ taskQueue }, 'shell helper worker started');
  await runUntilSignalled(deps, [worker]);
}
