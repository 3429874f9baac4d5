// Regions (README "Regions"): a region is a named fleet — session, model and sandbox workers and their Docker hosts —
// polling region-scoped task queues. A session is placed in one at creation; its sandboxes stay there while that
// region's sandbox fleet is alive, and move (restored from the shared snapshot store) when it is gone.

/** The kinds of worker process that beat for their region (db/repositories/region-heartbeats.ts). */
export type RegionWorkerKind = 'session' | 'model' | 'sandbox';

/** Region names: short, lower-case, usable inside a task-queue name. */
export const regionNamePattern = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** The request metadata key a client sets to ask for a region (`metadata: { region: 'eu' }` in the SDK). */
export const regionMetadataKey = 'region';

/** The `session.error` a session records when its region's fleet is gone and it moves to another. */
export const regionFailoverErrorType = 'region_failover_error';

/** The session worker's local activity's input: where the session is placed now. */
export interface RegionPlacementRequest {
  region: string;
}

/** Its answer: where the session's sandboxes go from now on (the same region unless that region's fleet is gone). */
export interface RegionPlacement {
  region: string;
}

/**
 * Where a session's next sandbox goes: its own region while a sandbox worker there is alive; else the region of the
 * session worker running the workflow (which adopted the session's queue when the region's session workers died), if
 * that one is alive; else the first live region; with no live region at all, it stays (nothing better is known).
 */
export function chooseRegion(current: string, workerRegion: string | undefined, live: readonly string[]): string {
  if (live.includes(current)) return current;
  if (workerRegion !== undefined && live.includes(workerRegion)) return workerRegion;
  return live[0] ?? current;
}
