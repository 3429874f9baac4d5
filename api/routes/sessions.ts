// /v1/sessions: create (starts the session workflow), get, update (title, metadata), list, archive, delete.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
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
import { deleteSessionEvents, emptyTotals, usageBySession } from '../../db/repositories/session-events.ts';
import {
  deleteSessionRow,
  getSessionRow,
  insertSession,
  listSessionRows,
  markSessionArchived,
  updateSessionRow,
} from '../../db/repositories/sessions.ts';
import { existingVaultIds } from '../../db/repositories/vaults.ts';
import type { UserMessageEvent } from '../../domain/events.ts';
import { makeId } from '../../domain/ids.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { conflict, invalidRequest, notFound } from '../errors.ts';
import { deletedSchema, pageSchema } from '../schemas/common.ts';
import {
  sessionCreateSchema,
  sessionListQuerySchema,
  sessionSchema,
  sessionUpdateSchema,
} from '../schemas/sessions.ts';
import { buildSessionInput } from '../session-input.ts';
import { liveState, sessionResponse, type LiveState } from '../session-view.ts';

const params = z.object({ session_id: z.string().min(1).max(128) });
const tags = ['sessions'];
const deleteWaitMs = 5_000;

export function registerSessionRoutes(app: ZodApp, context: ApiContext): void {
  const { pool, driver, config } = context;

  const requireRow = async (tenantId: string, sessionId: string) => {
    const row = await getSessionRow(pool, tenantId, sessionId);
    if (!row) throw notFound('session', sessionId);
    return row;
  };

  const respond = async (tenantId: string, row: Awaited<ReturnType<typeof requireRow>>, live: LiveState) => {
    const resources = (await listSessionResources(pool, tenantId, [row.id])).get(row.id) ?? [];
    return sessionResponse(row, live, resources);
  };

  app.post(
    '/v1/sessions',
    {
      schema: {
        tags,
        summary: 'Create a session: pins the agent version and starts its workflow (status idle)',
        body: sessionCreateSchema,
        response: { 200: sessionSchema },
      },
    },
    async (request) => {
      const { tenantId, body } = request;
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
      // The row commits only if the workflow started: a failed start (Temporal down) leaves nothing behind.
      const row = await withTransaction(pool, async (client) => {
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
      return respond(tenantId, row, { status: 'idle', usage: emptyTotals() });
    },
  );

  app.get(
    '/v1/sessions/:session_id',
    { schema: { tags, summary: 'Get a session', params, response: { 200: sessionSchema } } },
    async (request) => {
      const row = await requireRow(request.tenantId, request.params.session_id);
      return respond(request.tenantId, row, await liveState(pool, driver, row, request.log));
    },
  );

  app.post(
    '/v1/sessions/:session_id',
    {
      schema: {
        tags,
        summary: 'Update a session (title, metadata)',
        params,
        body: sessionUpdateSchema,
        response: { 200: sessionSchema },
      },
    },
    async (request) => {
      const { body, tenantId } = request;
      if (body.vault_ids !== undefined) throw invalidRequest('vault_ids cannot be changed after creation');
      if (body.agent !== undefined) throw invalidRequest('updating a session agent is not supported');
      const current = await requireRow(tenantId, request.params.session_id);
      const row = await updateSessionRow(pool, tenantId, current.id, {
        title: body.title === undefined ? current.title : body.title,
        metadata: patchMetadata(current.metadata, body.metadata),
      });
      if (!row) throw notFound('session', current.id);
      return respond(tenantId, row, await liveState(pool, driver, row, request.log));
    },
  );

  app.get(
    '/v1/sessions',
    {
      schema: {
        tags,
        summary: 'List sessions (newest first)',
        querystring: sessionListQuerySchema,
        response: { 200: pageSchema(sessionSchema) },
      },
    },
    async (request) => {
      const { query, tenantId } = request;
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
      const [usage, resources] = await Promise.all([
        usageBySession(pool, ids),
        listSessionResources(pool, tenantId, ids),
      ]);
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
    },
  );

  app.post(
    '/v1/sessions/:session_id/archive',
    {
      schema: {
        tags,
        summary: 'Archive a session: it ends (terminated), keeps its history and accepts no more events',
        params,
        response: { 200: sessionSchema },
      },
    },
    async (request) => {
      const current = await requireRow(request.tenantId, request.params.session_id);
      if (!current.archived_at) await driver.requestTermination(current.id, 'archived');
      const row = (await markSessionArchived(pool, request.tenantId, current.id)) ?? current;
      return respond(request.tenantId, row, await liveState(pool, driver, row, request.log));
    },
  );

  app.delete(
    '/v1/sessions/:session_id',
    {
      schema: {
        tags,
        summary: 'Delete a session, its events and its sandbox (409 while running: interrupt it first)',
        params,
        response: { 200: deletedSchema('session_deleted') },
      },
    },
    async (request) => {
      const row = await requireRow(request.tenantId, request.params.session_id);
      const live = await liveState(pool, driver, row, request.log);
      if (live.status === 'running') {
        throw conflict('a running session cannot be deleted: send a user.interrupt event first');
      }
      if (await driver.requestTermination(row.id, 'deleted')) {
        if (!(await driver.waitClosed(row.id, deleteWaitMs))) await driver.forceTerminate(row.id, 'deleted');
      }
      await deleteSessionEvents(pool, row.id, makeId('event', randomUUID()));
      await deleteSessionRow(pool, request.tenantId, row.id);
      return { id: row.id, type: 'session_deleted' as const };
    },
  );
}
