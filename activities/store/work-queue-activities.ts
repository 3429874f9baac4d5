// The session workflow's door to its self-hosted environment's work queue: when the session awaits a runner's tool
// results, it makes sure an open work item hands the session to a runner (idempotent: at most one open item per
// session). A local activity on the session worker, like the journal.
import type pg from 'pg';
import { ensureOpenWorkItem } from '../../db/repositories/work-items.ts';
import type { QueueSessionWorkInput } from '../../domain/contracts/work-queue-activity.ts';

export function createWorkQueueActivities(pool: pg.Pool) {
  return {
    /** Returns the id of the session's open work item (queued now, or already there). */
    async queueSessionWork(input: QueueSessionWorkInput): Promise<string> {
      return ensureOpenWorkItem(pool, input);
    },
  };
}

export type WorkQueueActivities = ReturnType<typeof createWorkQueueActivities>;
