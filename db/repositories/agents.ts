// Agents and their immutable versions. An update writes a new version row only if the caller's `version` matches
// the current one (optimistic concurrency); the agent row's current_version moves in the same transaction.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { withTransaction } from '../transaction.ts';
import type {
  AgentHarness,
  AgentLimits,
  AgentModel,
  AgentToolset,
  BackendTool,
  CustomTool,
  McpServerDefinition,
  McpToolset,
  PermissionPolicy,
} from '../../domain/agent.ts';
import { ConflictError } from '../../domain/errors.ts';
import { makeId } from '../../domain/ids.ts';
import type { SkillReference } from '../../domain/skills.ts';
import { cursorCondition, isoOrNull, pageOf, type ListOptions, type Metadata, type Page } from './pagination.ts';

/** A sub-agent tool as stored before it was retired (new ones are refused; a session cannot pin an agent with one). */
export interface SubAgentToolReference {
  type: 'sub_agent';
  name: string;
  description: string;
  agent: { type: 'agent'; id: string; version?: number };
  permission_policy?: PermissionPolicy;
}

export type StoredAgentTool = AgentToolset | McpToolset | CustomTool | BackendTool | SubAgentToolReference;

/** A coordinator's roster as stored: versioned references (resolved at creation) and at most one `self`. */
/** A roster agent as stored: resolved to a version, or `self`. */
export type StoredRosterAgent = { type: 'agent'; id: string; version: number } | { type: 'self' };

/** One member of the `multiagent_20261001` form, resolved (defaults filled). */
export type StoredMultiagentMember =
  | { type: 'disabled' }
  | { type: 'enabled'; inline_agents: { type: 'enabled' | 'disabled' }; predefined_agents: StoredRosterAgent[] };

/** The agent's `multiagent` config as stored and returned: either of the API's two forms, resolved. */
export type StoredMultiagent =
  | { type: 'coordinator'; agents: (StoredRosterAgent | { type: 'advisor'; model: string })[] }
  | {
      type: 'multiagent_20261001';
      advisor: { type: 'disabled' } | { type: 'enabled'; model: string };
      subagents: StoredMultiagentMember;
      workflows: StoredMultiagentMember;
    };

export interface AgentDefinition {
  name: string;
  description: string | null;
  system: string | null;
  model: AgentModel;
  tools: StoredAgentTool[];
  mcp_servers: McpServerDefinition[];
  skills: SkillReference[];
  metadata: Metadata;
  limits?: AgentLimits;
  multiagent?: StoredMultiagent;
  harness?: AgentHarness;
}

export interface AgentRecord extends AgentDefinition {
  id: string;
  type: 'agent';
  version: number;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

interface AgentRow {
  id: string;
  position: string;
  version: number;
  definition: AgentDefinition;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

const toRecord = (row: AgentRow): AgentRecord => ({
  id: row.id,
  type: 'agent',
  ...row.definition,
  version: row.version,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
  archived_at: isoOrNull(row.archived_at),
});

const selectAgent = `select a.id, a.position, v.version, v.definition, a.created_at,
  v.created_at as updated_at, a.archived_at
  from agents a join agent_versions v on v.agent_id = a.id`;

/** `id`: the caller's (derived from an Idempotency-Key), else a new one. */
export async function createAgent(
  pool: pg.Pool,
  tenantId: string,
  definition: AgentDefinition,
  id = makeId('agent', randomUUID()),
): Promise<AgentRecord> {
  await withTransaction(pool, async (client) => {
    await client.query('insert into agents (id, tenant_id, current_version) values ($1, $2, 1)', [id, tenantId]);
    await client.query('insert into agent_versions (agent_id, version, tenant_id, definition) values ($1, 1, $2, $3)', [
      id,
      tenantId,
      JSON.stringify(definition),
    ]);
  });
  const created = await getAgent(pool, tenantId, id);
  if (!created) throw new Error('agent vanished after creation');
  return created;
}

/** The agent at `version`, or at its current version; undefined if it is not this tenant's. */
export async function getAgent(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  version?: number,
): Promise<AgentRecord | undefined> {
  const { rows } = await pool.query<AgentRow>(
    `${selectAgent} and v.version = coalesce($3, a.current_version) where a.tenant_id = $1 and a.id = $2`,
    [tenantId, id, version ?? null],
  );
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Writes a new version built by `change` from the current one; a ConflictError if `expectedVersion` is stale. */
export async function updateAgent(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  expectedVersion: number | undefined,
  change: (current: AgentDefinition) => AgentDefinition,
): Promise<AgentRecord | undefined> {
  const found = await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ current_version: number; definition: AgentDefinition }>(
      `select a.current_version, v.definition from agents a
       join agent_versions v on v.agent_id = a.id and v.version = a.current_version
       where a.tenant_id = $1 and a.id = $2 for update of a`,
      [tenantId, id],
    );
    const current = rows[0];
    if (!current) return false;
    if (expectedVersion !== undefined && expectedVersion !== current.current_version) {
      throw new ConflictError(`version conflict: the agent is at version ${current.current_version}`);
    }
    const next = change(current.definition);
    if (canonical(next) !== canonical(current.definition)) {
      const version = current.current_version + 1;
      await client.query(
        'insert into agent_versions (agent_id, version, tenant_id, definition) values ($1, $2, $3, $4)',
        [id, version, tenantId, JSON.stringify(next)],
      );
      await client.query('update agents set current_version = $2, updated_at = now() where id = $1', [id, version]);
    }
    return true;
  });
  return found ? getAgent(pool, tenantId, id) : undefined;
}

/** JSON with sorted keys: jsonb does not keep key order, so plain JSON.stringify would see changes that are not. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

export async function archiveAgent(pool: pg.Pool, tenantId: string, id: string): Promise<AgentRecord | undefined> {
  const { rowCount } = await pool.query(
    'update agents set archived_at = coalesce(archived_at, now()) where tenant_id = $1 and id = $2',
    [tenantId, id],
  );
  return rowCount ? getAgent(pool, tenantId, id) : undefined;
}

export async function listAgents(
  pool: pg.Pool,
  tenantId: string,
  options: ListOptions & { createdGte?: string; createdLte?: string },
): Promise<Page<AgentRecord>> {
  const order = options.order ?? 'desc';
  const cursor = cursorCondition('a.position', { ...options, order }, 6);
  const { rows } = await pool.query<AgentRow>(
    `${selectAgent} and v.version = a.current_version
     where a.tenant_id = $1 and ($2 or a.archived_at is null)
       and a.created_at >= coalesce($3::timestamptz, '-infinity') and a.created_at <= coalesce($4::timestamptz, 'infinity')
       and ${cursor.sql}
     order by a.position ${order} limit $5`,
    [
      tenantId,
      options.includeArchived ?? false,
      options.createdGte ?? null,
      options.createdLte ?? null,
      options.limit + 1,
      ...cursor.params,
    ],
  );
  return pageOf(rows, options.limit, (row) => row.position, toRecord);
}

/** Every version of an agent, newest first; undefined if the agent is not this tenant's. */
export async function listAgentVersions(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  options: ListOptions,
): Promise<Page<AgentRecord> | undefined> {
  const exists = await pool.query('select 1 from agents where tenant_id = $1 and id = $2', [tenantId, id]);
  if (exists.rowCount === 0) return undefined;
  const order = options.order ?? 'desc';
  const cursor = cursorCondition('v.version', { ...options, order }, 4);
  const { rows } = await pool.query<AgentRow>(
    `select a.id, v.version::text as position, v.version, v.definition, a.created_at, v.created_at as updated_at, a.archived_at
     from agents a join agent_versions v on v.agent_id = a.id
     where a.tenant_id = $1 and a.id = $2 and ${cursor.sql}
     order by v.version ${order} limit $3`,
    [tenantId, id, options.limit + 1, ...cursor.params],
  );
  return pageOf(rows, options.limit, (row) => row.position, toRecord);
}
