// A session placed in a region (domain/regions.ts) checks before each sandbox creation that its region's sandbox
// fleet is alive; when it is gone, the session moves: its settings' region changes (its model and sandbox queues
// follow), a `session.error` says so, and the sandbox is restored from the last snapshot in the new region (snapshots
// live in PostgreSQL, which every region reads). At the next quiet point the workflow itself continues as new on the
// new region's session queue (workflows/session-runtime.ts).
import { makeContinueAsNewFunc, patched } from '@temporalio/workflow';
import { regionFailoverErrorType } from '../domain/regions.ts';
import type { SessionSettings, SessionWorkflowInput, SubAgentResult } from '../domain/session.ts';
import { placedQueue, taskQueues } from '../domain/task-queues.ts';
import { regionActivities } from './activity-proxies.ts';
import type { EventJournal } from './event-journal.ts';

/** Sessions with a region ask where their sandbox goes before creating it (a local activity, one marker). */
export const regionPlacementPatch = 'region-placement';

/** Checks the session's region before a sandbox creation and moves the session when the region's fleet is gone. */
export async function placeSandbox(settings: SessionSettings, journal: EventJournal, hasSnapshot: boolean) {
  const current = settings.region;
  if (current === undefined || !patched(regionPlacementPatch)) return;
  // One local activity at a time: a journal write racing the placement would resolve in a different order on replay.
  await journal.flushed();
  const { region } = await regionActivities.placeSandbox({ region: current });
  if (region === current) return;
  // The settings object is the session's one copy (model calls, compaction and sandboxes read it): all follow.
  settings.region = region;
  journal.emit({
    type: 'session.error',
    error: {
      type: regionFailoverErrorType,
      message:
        `Region ${current} has no live sandbox workers; the session moved to region ${region}` +
        (hasSnapshot ? ' and its workspace is restored from the last snapshot.' : '.'),
      retry_status: { type: 'retrying' },
    },
  });
}

/** The session queue to go on in: the new region's, when the session moved to another region during this run. */
export function regionQueueToMoveTo(settings: SessionSettings, regionAtStart: string | undefined): string | undefined {
  if (settings.region === undefined || settings.region === regionAtStart) return undefined;
  return placedQueue(settings, taskQueues.session);
}

/** Continue-as-new; a session that moved to another region goes on in that region's session queue. */
export function continueAsNewPlaced(next: SessionWorkflowInput, regionAtStart: string | undefined): Promise<never> {
  const taskQueue = regionQueueToMoveTo(next.settings, regionAtStart);
  return makeContinueAsNewFunc<(input: SessionWorkflowInput) => Promise<SubAgentResult | undefined>>(
    taskQueue ? { taskQueue } : undefined,
  )(next);
}
