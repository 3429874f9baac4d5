// /v1/sessions: create (starts the session workflow), get, update (title, metadata), list, archive, delete.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { z } from 'zod';
import { getAgent } from '../../db/repositories/agents.ts';
import { getEnvironment } from '../../db/repositories/environments.ts';
import {
  addSessionResource,
  defaultMountPath,
  existingFileIds,
  listSessionResources,
} from '../../db/repositories/files.ts';
import { patchMetadata } from '../../db/repositories/pagination.ts';
import { withTransaction } from '../../db/transaction.ts';
import { deleteEgressRecords } from '../../db/repositories/egress-log.ts';
import { deleteSessionEvents, emptyTotals, usageBySession } from '../../db/repositories/session-events.ts';
import {
  deleteSessionRow,
  insertSession,
  listSessionRows,
  markSessionArchived,
  updateSessionRow,
  type SessionRow,
} from '../../db/repositories/sessions.ts';
import { existingVaultIds } from '../../db/repositories/vaults.ts';
import type { UserMessageEvent } from '../../domain/events.ts';
import { makeId } from '../../domain/ids.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { conflict, invalidRequest, notFound } from '../errors.ts';
import { sessions } from '../resources.ts';
import {
  sessionCreateSchema,
  sessionListQuerySchema,
  sessionSchema,
  sessionUpdateSchema,
} from '../schemas/sessions.ts';
import { buildSessionInput } from '../session-input.ts';
import { liveState, sessionResponse, type LiveState } from '../session-view.ts';

const tags = ['sessions'];
const deleteWaitMs = 5_000;

type SessionCreateBody = z.output<typeof sessionCreateSchema>;

/** What a new session references, each checked to exist (404) and be usable (400). */
async function resolveReferences(pool: pg.Pool, tenantId: string, body: SessionCreateBody) {
  const reference = typeof body.agent === 'string' ? { id: body.agent, version: undefined } : body.agent;
  const agent = await getAgent(pool, tenantId, reference.id, reference.version);
  if (!agent) throw notFound('agent', reference.id);
  if (agent.archived_at) throw invalidRequest(`agent ${agent.id} is archived`);
  const environment = await getEnvironment(pool, tenantId, body.environment_id);
  if (!environment) throw notFound('environment', body.environment_id);
  if (environment.archived_at) throw invalidRequest(`environment ${environment.id} is archived`);
  const vaultIds = [...new Set(body.vault_ids ?? [])];
  const vaults = await existingVaultIds(pool, tenantId, vaultIds);
  const missingVault = vaultIds.find((id) => !vaults.has(id));
  if (missingVault) throw notFound('vault', missingVault);
  const fileResources = (body.resources ?? []).map((resource) => {
    if (resource.type !== 'file') throw invalidRequest('github_repository resources are not supported yet');
    return { fileId: resource.file_id, mountPath: resource.mount_path ?? defaultMountPath(resource.file_id) };
  });
  const files = await existingFileIds(
    pool,
    tenantId,
    fileResources.map((resource) => resource.fileId),
  );
  const missingFile = fileResources.find((resource) => !files.has(resource.fileId));
  if (missingFile) throw notFound('file', missingFile.fileId);

  return { agent, environment, vaultIds, fileResources };
}

/** Inserts the row and starts the workflow, in one transaction: a failed start (Temporal down) leaves nothing behind. */
async function createSession(context: ApiContext, tenantId: string, body: SessionCreateBody): Promise<SessionRow> {
  const { pool, config, driver } = context;
  const { agent, environment, vaultIds, fileResources } = await resolveReferences(pool, tenantId, body);
  const sessionId = makeId('session', randomUUID());
  const initialEvents: UserMessageEvent[] = (body.initial_events ?? []).map((event) => ({
    ...event,
    id: makeId('event', randomUUID()),
    processed_at: null,
  }));
  const input = await buildSessionInput({
    pool,
    config,
    settings: context.sessionSettings,
    tenantId,
    sessionId,
    title: body.title ?? null,
    agent,
    environment,
    vaultIds,
    initialEvents,
  });
  return withTransaction(pool, async (client) => {
    const inserted = await insertSession(client, tenantId, {
      id: sessionId,
      agentId: agent.id,
      agentVersion: agent.version,
      agentSnapshot: input.agent,
      environmentId: environment.id,
      title: input.title,
      metadata: body.metadata ?? {},
      vaultIds,
    });
    for (const resource of fileResources) await addSessionResource(client, tenantId, sessionId, resource);
    await driver.start(input);
    return inserted;
  });
}

/** A page of sessions, each with its status as its journal last announced it, its usage and its resources. */
async function listSessions(pool: pg.Pool, tenantId: string, query: z.output<typeof sessionListQuerySchema>) {
  const page = await listSessionRows(pool, tenantId, {
    limit: query.limit,
    page: query.page,
    order: query.order,
    includeArchived: query.include_archived,
    agentId: query.agent_id,
    agentVersion: query.agent_version,
    createdGt: query['created_at[gt]'],
    createdGte: query['created_at[gte]'],
    createdLt: query['created_at[lt]'],
    createdLte: query['created_at[lte]'],
    statuses: query['statuses[]'] ?? query.statuses,
  });
  const ids = page.data.map((row) => row.id);
  const [usage, resources] = await Promise.all([usageBySession(pool, ids), listSessionResources(pool, tenantId, ids)]);
  return {
    next_page: page.next_page,
    data: page.data.map((row) =>
      sessionResponse(
        row,
        {
          status: row.archived_at ? 'terminated' : (row.journal_status as LiveState['status']),
          usage: usage.get(row.id) ?? emptyTotals(),
        },
        resources.get(row.id) ?? [],
      ),
    ),
  };
}

export function registerSessionRoutes(app: ZodApp, context: ApiContext): void {
  const { pool, driver } = context;

  const respond = async (tenantId: string, row: SessionRow, live: LiveState) => {
    const resources = (await listSessionResources(pool, tenantId, [row.id])).get(row.id) ?? [];
    return sessionResponse(row, live, resources);
  };

  crudRoutes(app, pool, { kind: sessions, path: '/v1/sessions', tags, schema: sessionSchema })
    .create(
      {
        summary: 'Create a session: pins the agent version and starts its workflow (status idle)',
        body: sessionCreateSchema,
      },
      async ({ tenantId, body }) =>
        respond(tenantId, await createSession(context, tenantId, body), { status: 'idle', usage: emptyTotals() }),
    )
    .retrieve({ summary: 'Get a session' }, async ({ tenantId, params, log }) => {
      const row = await sessions.require(pool, tenantId, params);
      return respond(tenantId, row, await liveState(pool, driver, row, log));
    })
    .update(
      { summary: 'Update a session (title, metadata)', body: sessionUpdateSchema },
      async ({ tenantId, params, body, log }) => {
        if (body.vault_ids !== undefined) throw invalidRequest('vault_ids cannot be changed after creation');
        if (body.agent !== undefined) throw invalidRequest('updating a session agent is not supported');
        const current = await sessions.require(pool, tenantId, params);
        const row = await updateSessionRow(pool, tenantId, current.id, {
          title: body.title === undefined ? current.title : body.title,
          metadata: patchMetadata(current.metadata, body.metadata),
        });
        return row && respond(tenantId, row, await liveState(pool, driver, row, log));
      },
    )
    .list(
      { summary: 'List sessions (newest first)', querystring: sessionListQuerySchema },
      async ({ tenantId, query }) => listSessions(pool, tenantId, query),
    )
    .archive(
      { summary: 'Archive a session: it ends (terminated), keeps its history and accepts no more events' },
      async ({ tenantId, params, log }) => {
        const current = await sessions.require(pool, tenantId, params);
        if (!current.archived_at) await driver.requestTermination(current.id, 'archived');
        const row = (await markSessionArchived(pool, tenantId, current.id)) ?? current;
        return respond(tenantId, row, await liveState(pool, driver, row, log));
      },
    )
    .remove(
      {
        summary: 'Delete a session, its events and its sandbox (409 while running: interrupt it first)',
        deletedType: 'session_deleted',
      },
      async ({ tenantId, params, log }) => {
        const row = await sessions.require(pool, tenantId, params);
        const live = await liveState(pool, driver, row, log);
        if (live.status === 'running') {
          throw conflict('a running session cannot be deleted: send a user.interrupt event first');
        }
        if (await driver.requestTermination(row.id, 'deleted')) {
          if (!(await driver.waitClosed(row.id, deleteWaitMs))) await driver.forceTerminate(row.id, 'deleted');
        }
        await deleteSessionEvents(pool, row.id, makeId('event', randomUUID()));
        await deleteEgressRecords(pool, tenantId, row.id);
        await deleteSessionRow(pool, tenantId, row.id);
        return true;
      },
    );
}
