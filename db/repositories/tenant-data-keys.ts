// Per-tenant payload data keys (codec/tenant-keyring.ts wraps and unwraps them; rows hold only wrapped keys), and which
// tenant a Temporal workflow belongs to, so the payload codec can pick that tenant's key.
import type pg from 'pg';
import { idPrefix } from '../../domain/ids.ts';
import { deploymentRunWorkflowId } from '../../domain/deployments.ts';
import type { Queryable } from '../queryable.ts';

export interface WrappedDataKey {
  id: string;
  tenantId: string;
  wrappedKey: Buffer;
  wrappingKeyId: string;
  createdAt: Date;
}

interface DataKeyRow {
  id: string;
  tenant_id: string;
  wrapped_key: Buffer;
  wrapping_key_id: string;
  created_at: Date;
}

const toKey = (row: DataKeyRow): WrappedDataKey => ({
  id: row.id,
  tenantId: row.tenant_id,
  wrappedKey: row.wrapped_key,
  wrappingKeyId: row.wrapping_key_id,
  createdAt: row.created_at,
});

/** The tenant's newest data key (the one new payloads use), or undefined before its first. */
export async function currentDataKey(db: Queryable, tenantId: string): Promise<WrappedDataKey | undefined> {
  const { rows } = await db.query<DataKeyRow>(
    'select * from tenant_data_keys where tenant_id = $1 order by position desc limit 1',
    [tenantId],
  );
  return rows[0] && toKey(rows[0]);
}

export async function insertDataKey(db: Queryable, key: Omit<WrappedDataKey, 'createdAt'>): Promise<WrappedDataKey> {
  const { rows } = await db.query<DataKeyRow>(
    `insert into tenant_data_keys (id, tenant_id, wrapped_key, wrapping_key_id) values ($1, $2, $3, $4) returning *`,
    [key.id, key.tenantId, key.wrappedKey, key.wrappingKeyId],
  );
  return toKey(rows[0]!);
}

/** Every data key of a tenant, newest first. */
export async function listDataKeys(db: Queryable, tenantId: string): Promise<WrappedDataKey[]> {
  const { rows } = await db.query<DataKeyRow>(
    'select * from tenant_data_keys where tenant_id = $1 order by position desc',
    [tenantId],
  );
  return rows.map(toKey);
}

const sessionWorkflow = new RegExp(`^session-(${idPrefix.session}[A-Za-z0-9]+)$`);
// Scheduled runs' ids carry the scheduled time after the deployment id.
const deploymentRunWorkflow = new RegExp(`^${deploymentRunWorkflowId('')}(${idPrefix.deployment}[A-Za-z0-9]+)`);

/**
 * The tenant owning a workflow: a session (`session-sesn_…`, from its row) or a deployment run (from its deployment).
 * Undefined for anything else — sub-agent sessions have no row — and for rows deleted since.
 */
export async function tenantOfWorkflow(pool: Pick<pg.Pool, 'query'>, workflowId: string): Promise<string | undefined> {
  const session = sessionWorkflow.exec(workflowId)?.[1];
  const deployment = session ? undefined : deploymentRunWorkflow.exec(workflowId)?.[1];
  if (!session && !deployment) return undefined;
  const { rows } = await pool.query<{ tenant_id: string }>(
    session ? 'select tenant_id from sessions where id = $1' : 'select tenant_id from deployments where id = $1',
    [session ?? deployment],
  );
  return rows[0]?.tenant_id;
}
