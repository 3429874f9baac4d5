// Workspace snapshots in PostgreSQL (table sandbox_snapshots): any sandbox worker, on any Docker host, can restore one.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { SandboxOwner } from '../../domain/sandbox.ts';

/** Snapshots kept per session: the newest is the one the lease points at, older ones cover a lost activity result. */
const keptPerSession = 3;

export class SnapshotStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** Stores a workspace tar and prunes the session's older snapshots. */
  async save(owner: SandboxOwner, data: Buffer): Promise<string> {
    const id = `snap_${randomBytes(12).toString('hex')}`;
    await this.pool.query(
      `insert into sandbox_snapshots (id, tenant_id, session_id, data, size_bytes) values ($1, $2, $3, $4, $5)`,
      [id, owner.tenantId, owner.sessionId, data, data.length],
    );
    await this.pool.query(
      `delete from sandbox_snapshots where tenant_id = $1 and session_id = $2 and id not in (
         select id from sandbox_snapshots where tenant_id = $1 and session_id = $2
         order by created_at desc, id limit $3)`,
      [owner.tenantId, owner.sessionId, keptPerSession],
    );
    return id;
  }

  /** The snapshot's tar, only when it belongs to this owner's tenant (a snapshot id never crosses tenants). */
  async load(snapshotId: string, owner: SandboxOwner): Promise<Buffer | undefined> {
    const { rows } = await this.pool.query<{ data: Buffer }>(
      'select data from sandbox_snapshots where id = $1 and tenant_id = $2',
      [snapshotId, owner.tenantId],
    );
    return rows[0]?.data;
  }

  async deleteForSession(owner: SandboxOwner): Promise<number> {
    const result = await this.pool.query('delete from sandbox_snapshots where tenant_id = $1 and session_id = $2', [
      owner.tenantId,
      owner.sessionId,
    ]);
    return result.rowCount ?? 0;
  }

  async idsForSession(owner: SandboxOwner): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      'select id from sandbox_snapshots where tenant_id = $1 and session_id = $2 order by created_at desc, id',
      [owner.tenantId, owner.sessionId],
    );
    return rows.map((row) => row.id);
  }
}
