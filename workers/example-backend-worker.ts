// An example backend-tool worker, as an operator would run it next to their own systems: it polls the task queue an
// agent's backend tools name. Entry: `node --import tsx workers/example-backend-worker.ts` (queue from
// AGENTS_BACKEND_TASK_QUEUE, default `agents-backend-example`).
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { createExampleBackendTools } from '../activities/tools/example-backend-tools.ts';
import { bootstrapWorkerProcess, isMainModule, runUntilSignalled } from './bootstrap.ts';

export const exampleBackendTaskQueue = 'agents-backend-example';

export async function createExampleBackendWorker(options: {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  dataConverter: DataConverter;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    activities: createExampleBackendTools(),
    dataConverter: options.dataConverter,
  });
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('example-backend-worker');
  const worker = await createExampleBackendWorker({
    connection: deps.connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    // eslint-disable-next-line no-restricted-syntax -- example entry point
    taskQueue: process.env.AGENTS_BACKEND_TASK_QUEUE ?? exampleBackendTaskQueue,
    dataConverter: deps.dataConverter,
  });
  await runUntilSignalled(deps, [worker]);
}
