// The resource kinds routes address by path: each has one params schema (`:vault_id`, `:vault_id/:credential_id`, …)
// and one lookup that answers the row or throws the 404 in the one error shape (`vault "x" was not found`). A route
// file takes `vaults.params` for its schema and `await vaults.require(pool, tenantId, request.params)` for its row;
// a new kind is one `resourceKind({...})` here. The CRUD wiring over a kind is in crud-routes.ts.
import type pg from 'pg';
import { z } from 'zod';
import { getAgent } from '../db/repositories/agents.ts';
import { getRun } from '../db/repositories/deployment-runs.ts';
import { getDeployment } from '../db/repositories/deployments.ts';
import { getEnvironment } from '../db/repositories/environments.ts';
import { getWorkItem } from '../db/repositories/work-items.ts';
import { getFile, getSessionResource } from '../db/repositories/files.ts';
import { getSessionRow } from '../db/repositories/sessions.ts';
import { getSkill, getSkillVersion } from '../db/repositories/skills.ts';
import { getCredential, getVault } from '../db/repositories/vaults.ts';
import { getMemory } from '../db/repositories/memories.ts';
import { getMemoryStore } from '../db/repositories/memory-stores.ts';
import type { IdKind } from '../domain/ids.ts';
import { notFound } from './errors.ts';

/** A path id: what every `:…_id` segment accepts. */
export const pathIdSchema = z.string().min(1).max(128);

/** `z.object({ [name]: pathIdSchema })`, typed by the name. */
export const idParams = <Name extends string>(name: Name) =>
  z.object({ [name]: pathIdSchema } as { [Key in Name]: typeof pathIdSchema });

export type ParamsSchema = z.ZodObject<Record<string, typeof pathIdSchema>>;

export interface ResourceKind<Params extends ParamsSchema, Row> {
  /** Its name in messages: `${name} "${id}" was not found`. */
  readonly name: string;
  /**
   * The kind of its ids, when a create under an Idempotency-Key derives the id from the key (crud-routes.ts): a retry
   * that takes over an unanswered claim then finds the first attempt's row instead of making a second.
   */
  readonly idKind?: IdKind;
  /** The path params that address one row (parents' ids first). */
  readonly params: Params;
  /** The param that is this resource's own id. */
  readonly idParam: keyof z.output<Params> & string;
  find(pool: pg.Pool, tenantId: string, params: z.output<Params>): Promise<Row | undefined>;
  /** The row, or the 404. */
  require(pool: pg.Pool, tenantId: string, params: z.output<Params>): Promise<Row>;
  /** The 404 for these params (when a later step finds the row gone). */
  notFound(params: z.output<Params>): Error;
}

export function resourceKind<Params extends ParamsSchema, Row>(spec: {
  name: string;
  idKind?: IdKind;
  params: Params;
  idParam: keyof z.output<Params> & string;
  find: (pool: pg.Pool, tenantId: string, params: z.output<Params>) => Promise<Row | undefined>;
}): ResourceKind<Params, Row> {
  const missing = (params: z.output<Params>) => notFound(spec.name, String(params[spec.idParam]));
  return {
    ...spec,
    notFound: missing,
    async require(pool, tenantId, params) {
      const row = await spec.find(pool, tenantId, params);
      if (row === undefined) throw missing(params);
      return row;
    },
  };
}

/** `value`, or the 404 for `what` when it is absent. */
export function orNotFound<T>(value: T | undefined | null, what: string, id: string): T {
  if (value === undefined || value === null) throw notFound(what, id);
  return value;
}

export const agents = resourceKind({
  name: 'agent',
  idKind: 'agent',
  params: idParams('agent_id'),
  idParam: 'agent_id',
  find: (pool, tenantId, params) => getAgent(pool, tenantId, params.agent_id),
});

export const environments = resourceKind({
  name: 'environment',
  idKind: 'environment',
  params: idParams('environment_id'),
  idParam: 'environment_id',
  find: (pool, tenantId, params) => getEnvironment(pool, tenantId, params.environment_id),
});

/** A self-hosted environment's work item (api/routes/environment-work.ts). */
export const workItems = resourceKind({
  name: 'work item',
  params: environments.params.extend({ work_id: pathIdSchema }),
  idParam: 'work_id',
  find: (pool, tenantId, params) =>
    getWorkItem(pool, { tenantId, environmentId: params.environment_id, workId: params.work_id }),
});

export const sessions = resourceKind({
  name: 'session',
  params: idParams('session_id'),
  idParam: 'session_id',
  find: (pool, tenantId, params) => getSessionRow(pool, tenantId, params.session_id),
});

export const sessionResources = resourceKind({
  name: 'session resource',
  params: sessions.params.extend({ resource_id: pathIdSchema }),
  idParam: 'resource_id',
  find: (pool, tenantId, params) => getSessionResource(pool, tenantId, params.session_id, params.resource_id),
});

export const files = resourceKind({
  name: 'file',
  idKind: 'file',
  params: idParams('file_id'),
  idParam: 'file_id',
  find: (pool, tenantId, params) => getFile(pool, tenantId, params.file_id),
});

export const vaults = resourceKind({
  name: 'vault',
  idKind: 'vault',
  params: idParams('vault_id'),
  idParam: 'vault_id',
  find: (pool, tenantId, params) => getVault(pool, tenantId, params.vault_id),
});

export const credentials = resourceKind({
  name: 'credential',
  idKind: 'credential',
  params: vaults.params.extend({ credential_id: pathIdSchema }),
  idParam: 'credential_id',
  find: (pool, tenantId, params) => getCredential(pool, tenantId, params.vault_id, params.credential_id),
});

export const deployments = resourceKind({
  name: 'deployment',
  params: idParams('deployment_id'),
  idParam: 'deployment_id',
  find: (pool, tenantId, params) => getDeployment(pool, tenantId, params.deployment_id),
});

export const deploymentRuns = resourceKind({
  name: 'deployment run',
  params: idParams('deployment_run_id'),
  idParam: 'deployment_run_id',
  find: (pool, tenantId, params) => getRun(pool, tenantId, params.deployment_run_id),
});

export const skills = resourceKind({
  name: 'skill',
  idKind: 'skill',
  params: idParams('skill_id'),
  idParam: 'skill_id',
  find: (pool, tenantId, params) => getSkill(pool, tenantId, params.skill_id),
});

/** A version of a skill; `latest` addresses the newest. */
export const skillVersions = resourceKind({
  name: 'skill version',
  params: skills.params.extend({ version: pathIdSchema }),
  idParam: 'version',
  find: (pool, tenantId, params) => getSkillVersion(pool, tenantId, params.skill_id, params.version),
});

export const memoryStores = resourceKind({
  name: 'memory store',
  idKind: 'memoryStore',
  params: idParams('memory_store_id'),
  idParam: 'memory_store_id',
  find: (pool, tenantId, params) => getMemoryStore(pool, tenantId, params.memory_store_id),
});

/** A memory of a store the tenant owns (the store's lookup scopes it to the tenant). */
export const memories = resourceKind({
  name: 'memory',
  idKind: 'memory',
  params: memoryStores.params.extend({ memory_id: pathIdSchema }),
  idParam: 'memory_id',
  find: async (pool, tenantId, params) =>
    (await getMemoryStore(pool, tenantId, params.memory_store_id))
      ? getMemory(pool, params.memory_store_id, params.memory_id)
      : undefined,
});
