// Creating a session: the one code path behind POST /v1/sessions and every deployment run. Checks what the session
// references (agent version, environment, vaults, files), pins them into the workflow input, and starts the workflow;
// the row commits only if the workflow started, so a failed start leaves nothing behind.
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type pg from 'pg';
import { getAgent } from '../db/repositories/agents.ts';
import { getEnvironment } from '../db/repositories/environments.ts';
import { memoryStoresByIds } from '../db/repositories/memory-stores.ts';
import { addSessionMemoryStore, addSessionResource, existingFileIds } from '../db/repositories/files.ts';
import { addRepositoryResource } from '../db/repositories/repository-resources.ts';
import type { Metadata } from '../db/repositories/pagination.ts';
import { getSessionRow, insertSession, type SessionRow } from '../db/repositories/sessions.ts';
import { existingVaultIds } from '../db/repositories/vaults.ts';
import { withTransaction } from '../db/transaction.ts';
import type { PlatformConfig } from '../domain/config.ts';
import type { RunErrorType, SessionPreconditionFailure } from '../domain/deployments.ts';
import type { PinnedBudget } from '../domain/budget.ts';
import type { SessionBudget, UserContent, UserEvent } from '../domain/events.ts';
import { priceFor, type PriceTable } from '../domain/model-prices.ts';
import { makeId } from '../domain/ids.ts';
import { memoryMountPaths, memorySystemSection, runnerMemoryPath } from '../domain/memory.ts';
import type { SessionSettings } from '../domain/session.ts';
import { defaultFileMountPath, type RepositoryCheckout } from '../domain/session-resources.ts';
import { ApiError, invalidRequest } from './errors.ts';
import { resolveOutcome } from './outcome-events.ts';
import type { DefineOutcomeBody } from './schemas/events.ts';
import type { SessionDriver } from './session-driver.ts';
import {
  prepareRepositoryResource,
  type RepositoryResourceDeps,
  type RepositoryResourceRequest,
} from './repository-resources.ts';
import { buildSessionInput } from './session-input.ts';
import { sessionRegion } from './session-region.ts';

export interface SessionCreationDeps {
  pool: pg.Pool;
  config: PlatformConfig;
  settings: SessionSettings;
  driver: SessionDriver;
  /** Needed for github_repository resources (POST /v1/sessions); deployments refuse them (their rows keep no token). */
  repositories?: RepositoryResourceDeps;
}

export interface SessionRequest {
  agent: { id: string; version?: number };
  environmentId: string;
  title?: string | null;
  metadata?: Metadata;
  vaultIds?: string[];
  resources?: Array<{
    type: string;
    file_id?: string;
    mount_path?: string | null;
    memory_store_id?: string;
    access?: 'read_write' | 'read_only' | null;
    instructions?: string | null;
    url?: string;
    authorization_token?: string;
    checkout?: RepositoryCheckout | null;
  }>;
  initialEvents?: Array<{ type: 'user.message'; content: UserContent[] } | DefineOutcomeBody>;
  /** The API's spend ceiling (list cost); the model must have a list price. */
  budget?: SessionBudget;
  /** Decided by the caller when a retry must not create a second session (deployment runs); else a new id. */
  sessionId?: string;
}

/** A reference makes the session impossible: 404/400 at the API, a run error on a deployment run. */
export class SessionPreconditionError extends ApiError implements SessionPreconditionFailure {
  readonly runErrorType: RunErrorType;

  constructor(status: 400 | 404, runErrorType: RunErrorType, message: string) {
    super(status, status === 404 ? 'not_found_error' : 'invalid_request_error', message);
    this.runErrorType = runErrorType;
  }
}

const missing = (what: string, id: string, runErrorType: RunErrorType) =>
  new SessionPreconditionError(404, runErrorType, `${what} ${JSON.stringify(id)} was not found`);

/** The memory stores a session attaches, as its resources record them: each store live, each attached once. */
async function resolveMemoryStoreResources(
  pool: pg.Pool,
  tenantId: string,
  resources: NonNullable<SessionRequest['resources']>,
  selfHosted: boolean,
) {
  const requested = resources.flatMap((resource) =>
    resource.type === 'memory_store' && resource.memory_store_id ? [{ ...resource, id: resource.memory_store_id }] : [],
  );
  if (new Set(requested.map((store) => store.id)).size !== requested.length) {
    throw invalidRequest('a memory store can be attached to a session once');
  }
  const stores = await memoryStoresByIds(
    pool,
    tenantId,
    requested.map((store) => store.id),
  );
  for (const { id } of requested) {
    const store = stores.get(id);
    if (!store)
      throw new SessionPreconditionError(404, 'session_creation_rejected_error', `memory store ${id} was not found`);
    if (store.archived_at) {
      throw new SessionPreconditionError(400, 'session_creation_rejected_error', `memory store ${id} is archived`);
    }
  }
  const mountPaths = memoryMountPaths(requested.map((store) => stores.get(store.id)?.name ?? ''));
  return requested.map((resource, index) => {
    const store = stores.get(resource.id);
    return {
      memory_store_id: resource.id,
      access: resource.access ?? ('read_write' as const),
      instructions: resource.instructions ?? null,
      name: store?.name ?? '',
      description: store?.description ?? '',
      // A runner keeps the store in its workdir (runnerMemoryPath), not at a sandbox path.
      mount_path: selfHosted ? null : (mountPaths[index] ?? ''),
    };
  });
}

/** Checks what a session would reference; throws the error the API answers (and a run records). */
export async function resolveSessionReferences(
  pool: pg.Pool,
  tenantId: string,
  request: Omit<SessionRequest, 'environmentId'> & { environmentId: string },
  options: { repositories?: RepositoryResourceDeps } = {},
) {
  const agent = await getAgent(pool, tenantId, request.agent.id, request.agent.version);
  if (!agent) throw missing('agent', request.agent.id, 'agent_archived_error');
  if (agent.archived_at) {
    throw new SessionPreconditionError(400, 'agent_archived_error', `agent ${agent.id} is archived`);
  }
  const environment = await getEnvironment(pool, tenantId, request.environmentId);
  if (!environment) throw missing('environment', request.environmentId, 'environment_not_found_error');
  if (environment.archived_at) {
    throw new SessionPreconditionError(400, 'environment_archived_error', `environment ${environment.id} is archived`);
  }
  const vaultIds = [...new Set(request.vaultIds ?? [])];
  const vaults = await existingVaultIds(pool, tenantId, vaultIds);
  const missingVault = vaultIds.find((id) => !vaults.has(id));
  if (missingVault) throw missing('vault', missingVault, 'vault_not_found_error');
  const resources = request.resources ?? [];
  const fileResources: Array<{ fileId: string; mountPath: string }> = [];
  const repositoryResources: Array<{ index: number; resource: RepositoryResourceRequest }> = [];
  for (const [index, resource] of resources.entries()) {
    if (resource.type === 'memory_store') continue;
    if (resource.type === 'file' && resource.file_id) {
      fileResources.push({
        fileId: resource.file_id,
        mountPath: resource.mount_path ?? defaultFileMountPath(resource.file_id),
      });
    } else if (resource.type === 'github_repository' && options.repositories && resource.url) {
      repositoryResources.push({ index, resource: { ...resource, type: 'github_repository', url: resource.url } });
    } else {
      throw invalidRequest(`${resource.type} resources are not supported here`);
    }
  }
  const files = await existingFileIds(
    pool,
    tenantId,
    fileResources.map((resource) => resource.fileId),
  );
  const missingFile = fileResources.find((resource) => !files.has(resource.fileId));
  if (missingFile) throw missing('file', missingFile.fileId, 'file_not_found_error');
  const selfHosted = environment.config.type === 'self_hosted';
  const memoryStores = await resolveMemoryStoreResources(pool, tenantId, resources, selfHosted);
  const repositories = await Promise.all(
    repositoryResources.map(({ index, resource }) => prepareRepositoryResource(options.repositories!, resource, index)),
  );
  return { agent, environment, vaultIds, fileResources, memoryStores, repositories };
}

/** Creates and starts a session; with a caller-decided `sessionId`, a repeated call returns the session made first. */
export async function createSession(
  deps: SessionCreationDeps,
  tenantId: string,
  request: SessionRequest,
): Promise<SessionRow> {
  if (request.sessionId) {
    const existing = await getSessionRow(deps.pool, tenantId, request.sessionId);
    if (existing) return existing;
  }
  const { agent, environment, vaultIds, fileResources, memoryStores, repositories } = await resolveSessionReferences(
    deps.pool,
    tenantId,
    request,
    { repositories: deps.repositories },
  );
  const region = sessionRegion(deps.config, request.metadata, agent.harness?.type === 'code');
  const sessionId = request.sessionId ?? makeId('session', randomUUID());
  const initialEvents: UserEvent[] = await Promise.all(
    (request.initialEvents ?? []).map(async (event) => {
      const id = makeId('event', randomUUID());
      const resolved =
        event.type === 'user.define_outcome' ? await resolveOutcome(deps.pool, tenantId, event, id) : event;
      return { ...resolved, id, processed_at: null };
    }),
  );
  const input = await buildSessionInput({
    pool: deps.pool,
    config: deps.config,
    settings: deps.settings,
    tenantId,
    sessionId,
    title: request.title ?? null,
    agent,
    environment,
    vaultIds,
    initialEvents,
  });
  if (region) input.settings = { ...input.settings, region };
  const memoryContext = memorySystemSection(
    memoryStores.map((store) => ({
      ...store,
      mountPath: store.mount_path ?? runnerMemoryPath(store.name, store.memory_store_id),
    })),
  );
  if (memoryContext) input.systemContext = memoryContext;
  if (request.budget) input.budget = pinBudget(deps.config.AGENTS_MODEL_PRICES, input.agent.model.id, request.budget);
  return withTransaction(deps.pool, async (client) => {
    const inserted = await insertSession(client, tenantId, {
      id: sessionId,
      agentId: agent.id,
      agentVersion: agent.version,
      agentSnapshot: input.agent,
      environmentId: environment.id,
      title: input.title,
      metadata: request.metadata ?? {},
      vaultIds,
    });
    for (const resource of fileResources) await addSessionResource(client, tenantId, sessionId, resource);
    for (const store of memoryStores) await addSessionMemoryStore(client, tenantId, sessionId, store);
    for (const resource of repositories) {
      await addRepositoryResource(client, deps.repositories!.secretBox, tenantId, sessionId, resource);
    }
    try {
      await deps.driver.start(input);
    } catch (error) {
      // A retry after the workflow started but before the row committed: the workflow is the one we meant.
      if (!(request.sessionId && error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return inserted;
  });
}

/** Pins the model's list price with the budget, or refuses a model without one (the API's `model_not_budgetable`). */
function pinBudget(prices: PriceTable, model: string, limit: SessionBudget): PinnedBudget {
  const price = priceFor(prices, model);
  if (!price)
    throw invalidRequest(`model_not_budgetable: model ${model} has no list price, so a budget cannot track it`);
  return { limit, prices: { [model]: price }, model };
}
