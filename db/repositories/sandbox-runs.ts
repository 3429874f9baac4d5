// Sandbox running time for the usage ledger: the sandbox activities open a stretch when a container starts running
// (created, restored, claimed, unpaused) and close it when it stops (paused, removed); closing writes one
// `sandbox_seconds` ledger row keyed by the stretch, so a retried activity adds nothing twice.
import type pg from 'pg';
import type { SandboxOwner } from '../../domain/sandbox.ts';

const closeAndMeter = (condition: string) => `
  with ended as (
    update sandbox_runs set ended_at = now() where ${condition} and ended_at is null
    returning id, tenant_id, session_id, started_at, ended_at
  )
  insert into usage_ledger (entry_key, tenant_id, session_id, kind, seconds, occurred_at)
  select 'sandbox:' || id, tenant_id, session_id, 'sandbox_seconds',
         greatest(0, extract(epoch from ended_at - started_at)), ended_at
  from ended
  on conflict (entry_key) do nothing`;

/** A new container for the owner: any stretch of its session's earlier container (lost, replaced) ends first. */
export async function startSandboxRun(pool: pg.Pool, containerId: string, owner: SandboxOwner): Promise<void> {
  await pool.query(closeAndMeter('session_id = $1 and container_id <> $2'), [owner.sessionId, containerId]);
  await pool.query(
    `insert into sandbox_runs (container_id, tenant_id, session_id) values ($1, $2, $3)
     on conflict (container_id) where ended_at is null do nothing`,
    [containerId, owner.tenantId, owner.sessionId],
  );
}

/** An unpaused container: a new stretch for the owner of its last one. */
export async function resumeSandboxRun(pool: pg.Pool, containerId: string): Promise<void> {
  await pool.query(
    `insert into sandbox_runs (container_id, tenant_id, session_id)
     select container_id, tenant_id, session_id from sandbox_runs where container_id = $1 order by id desc limit 1
     on conflict (container_id) where ended_at is null do nothing`,
    [containerId],
  );
}

export async function endSandboxRun(pool: pg.Pool, containerId: string): Promise<void> {
  await pool.query(closeAndMeter('container_id = $1'), [containerId]);
}

/** The session's sandbox is gone: every open stretch of it ends. */
export async function endSessionSandboxRuns(pool: pg.Pool, owner: SandboxOwner): Promise<void> {
  await pool.query(closeAndMeter('session_id = $1'), [owner.sessionId]);
}

/** Containers of the tenant running now (open stretches; paused ones are not counted). */
export async function countLiveSandboxes(pool: pg.Pool, tenantId: string): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(
    'select count(*) from sandbox_runs where tenant_id = $1 and ended_at is null',
    [tenantId],
  );
  return Number(rows[0]?.count ?? 0);
}

/** The tenant whose container this is (from its last stretch), or undefined for one never run. */
export async function tenantOfContainer(pool: pg.Pool, containerId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ tenant_id: string }>(
    'select tenant_id from sandbox_runs where container_id = $1 order by id desc limit 1',
    [containerId],
  );
  return rows[0]?.tenant_id;
}
