// Region heartbeats (table region_heartbeats): which regions' fleets are alive, by kind of worker.
import type pg from 'pg';
import type { RegionWorkerKind } from '../../domain/regions.ts';

export interface RegionBeat {
  region: string;
  workerId: string;
  kind: RegionWorkerKind;
}

/** Records that this worker process is alive now. */
export async function beatRegion(pool: pg.Pool, beat: RegionBeat): Promise<void> {
  await pool.query(
    `insert into region_heartbeats (region, worker_id, kind, seen_at) values ($1, $2, $3, now())
     on conflict (region, worker_id) do update set kind = excluded.kind, seen_at = now()`,
    [beat.region, beat.workerId, beat.kind],
  );
}

/** A process shutting down cleanly says so, so its region is not taken for alive until it goes stale. */
export async function removeRegionBeat(pool: pg.Pool, beat: Omit<RegionBeat, 'kind'>): Promise<void> {
  await pool.query('delete from region_heartbeats where region = $1 and worker_id = $2', [beat.region, beat.workerId]);
}

/** The regions with at least one worker of `kind` heard from within `staleMs` (by the database's clock). */
export async function liveRegions(pool: pg.Pool, kind: RegionWorkerKind, staleMs: number): Promise<string[]> {
  const { rows } = await pool.query<{ region: string }>(
    `select distinct region from region_heartbeats
     where kind = $1 and seen_at > now() - make_interval(secs => $2::double precision / 1000)
     order by region`,
    [kind, staleMs],
  );
  return rows.map((row) => row.region);
}
