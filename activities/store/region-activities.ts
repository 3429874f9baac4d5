// The session worker's local activity for sessions placed in a region: where their sandboxes go now. It runs on the
// session worker executing the workflow — after a region's session workers died, that is a worker of the region that
// adopted the session's queue — and reads the region heartbeats (db/repositories/region-heartbeats.ts).
import type pg from 'pg';
import { liveRegions } from '../../db/repositories/region-heartbeats.ts';
import { chooseRegion, type RegionPlacement, type RegionPlacementRequest } from '../../domain/regions.ts';

export interface RegionActivityOptions {
  /** The region of the session worker this runs on (absent: a worker outside any region). */
  workerRegion: string | undefined;
  /** A region none of whose sandbox workers beat for this long is taken for gone. */
  staleMs: number;
}

export function createRegionActivities(pool: pg.Pool, options: RegionActivityOptions) {
  return {
    async placeSandbox(request: RegionPlacementRequest): Promise<RegionPlacement> {
      const live = await liveRegions(pool, 'sandbox', options.staleMs);
      return { region: chooseRegion(request.region, options.workerRegion, live) };
    },
  };
}

export type RegionActivities = ReturnType<typeof createRegionActivities>;
