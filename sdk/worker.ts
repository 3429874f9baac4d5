// Agents defined in code, the worker side: `createAgentWorker` runs the operator's workflow module (which defines
// agents with sdk/agent.ts and re-exports sessionWorkflow) on the operator's own task queue — the `task_queue` of
// their agents' harness. The platform provides the rest: model calls, sandboxes and tools are activities on the
// platform's queues; the journal's local activity writes the session's events to the platform's PostgreSQL, so the
// worker needs the platform's database and payload codec like the session worker (workers/session-worker.ts).
import { Worker } from '@temporalio/worker';
import { createJournalActivities } from '../activities/store/journal-activities.ts';
import { createWorkQueueActivities } from '../activities/store/work-queue-activities.ts';
import { baseWorkerCreateOptions, type WorkerBaseOptions } from '../workers/bootstrap.ts';
import { workflowBundlerOptions } from '../workers/workflow-bundler.ts';

export interface AgentWorkerOptions extends Omit<WorkerBaseOptions, 'taskQueuePrefix'> {
  /** The operator's queue (unprefixed): the `task_queue` of the agents' `code` harness. */
  taskQueue: string;
  /** The operator's workflow module: calls defineAgent and re-exports sessionWorkflow from sdk/agent.ts. */
  workflowsPath: string;
  maxCachedWorkflows?: number;
}

export async function createAgentWorker(options: AgentWorkerOptions): Promise<Worker> {
  return Worker.create({
    ...baseWorkerCreateOptions({ ...options, taskQueuePrefix: '' }, options.taskQueue),
    taskQueue: options.taskQueue,
    workflowsPath: options.workflowsPath,
    bundlerOptions: workflowBundlerOptions,
    activities: { ...createJournalActivities(options.pool), ...createWorkQueueActivities(options.pool) },
    maxCachedWorkflows: options.maxCachedWorkflows,
  });
}
