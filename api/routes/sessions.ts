// /v1/sessions: create (starts the session workflow), get, update (title, metadata; `session.updated`), list, archive,
// delete.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { z } from 'zod';
import { listSessionResources } from '../../db/repositories/files.ts';
import { stopSessionWorkItems } from '../../db/repositories/work-items.ts';
import { patchMetadata } from '../../db/repositories/pagination.ts';
import { deleteContextSummaries } from '../../db/repositories/context-summaries.ts';
import { deleteEgressRecords } from '../../db/repositories/egress-log.ts';
import { deleteSessionEvents, emptyTotals, usageBySession } from '../../db/repositories/session-events.ts';
import { sessionThreadIds } from '../../db/repositories/session-threads.ts';
import {
  deleteSessionRow,
  listSessionRows,
  markSessionArchived,
  updateSessionRow,
  type SessionRow,
} from '../../db/repositories/sessions.ts';
import type { FastifyBaseLogger } from 'fastify';
import { makeId } from '../../domain/ids.ts';
import type { SessionUpdateNotice } from '../../workflows/messages.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { conflict, invalidRequest } from '../errors.ts';
import { sessions } from '../resources.ts';
import {
  sessionCreateSchema,
  sessionListQuerySchema,
  sessionSchema,
  sessionUpdateSchema,
  type SessionCreateBody,
} from '../schemas/sessions.ts';
import { createSession } from '../session-creation.ts';
import type { SessionDriver } from '../session-driver.ts';
import { idempotencyToken } from '../idempotency.ts';
import { liveState, sessionOutcomes, sessionResponse, type LiveState } from '../session-view.ts';

const tags = ['sessions'];

/**
 * The session's `session.updated` event, with what the update changed (the title; the whole metadata bag unless it
 * is now empty). Journaled by the workflow, so it takes its place in the log; a session that has ended gets none.
 */
async function announceUpdate(driver: SessionDriver, before: SessionRow, after: SessionRow, log: FastifyBaseLogger) {
  const notice: SessionUpdateNotice = { id: makeId('event', randomUUID()) };
  if (after.title !== before.title) notice.title = after.title;
  const metadataChanged = JSON.stringify(after.metadata) !== JSON.stringify(before.metadata);
  if (metadataChanged && Object.keys(after.metadata).length > 0) notice.metadata = after.metadata;
  if (notice.title === undefined && !metadataChanged) return;
  try {
    await driver.notifyUpdated(after.id, notice);
  } catch (error) {
    log.warn({ err: error, sessionId: after.id }, 'could not journal session.updated; the update itself is saved');
  }
}
const deleteWaitMs = 5_000;

/**
 * POST /v1/sessions through the one creation path (api/session-creation.ts) that deployment runs use too. With an
 * Idempotency-Key the session's id derives from it, so a retry that takes over an unanswered claim returns the
 * session the first attempt made instead of starting a second one.
 */
function createFromBody(
  context: ApiContext,
  tenantId: string,
  body: SessionCreateBody,
  idempotentId: string | undefined,
): Promise<SessionRow> {
  const { pool, config, driver, sessionSettings, secretBox, urlGuard } = context;
  const agent = typeof body.agent === 'string' ? { id: body.agent, version: undefined } : body.agent;
  const repositories = { secretBox, urlGuard, allowedHosts: config.AGENTS_REPOSITORY_HOSTS };
  return createSession({ pool, config, settings: sessionSettings, driver, repositories }, tenantId, {
    agent: { id: agent.id, version: agent.version },
    environmentId: body.environment_id,
    title: body.title ?? null,
    metadata: body.metadata ?? {},
    vaultIds: body.vault_ids,
    resources: body.resources,
    initialEvents: body.initial_events,
    budget: body.budget,
    sessionId: idempotentId && makeId('session', idempotentId),
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
    const [resources, outcomes] = await Promise.all([
      listSessionResources(pool, tenantId, [row.id]),
      sessionOutcomes(pool, row.id),
    ]);
    return sessionResponse(row, live, resources.get(row.id) ?? [], outcomes);
  };

  crudRoutes(app, pool, { kind: sessions, path: '/v1/sessions', tags, schema: sessionSchema })
    .create(
      {
        summary: 'Create a session: pins the agent version and starts its workflow (status idle)',
        body: sessionCreateSchema,
      },
      async ({ tenantId, body, request }) => {
        const idempotentId = idempotencyToken(request, 0);
        const row = await createFromBody(context, tenantId, body, idempotentId);
        const live: LiveState = { status: 'idle', usage: emptyTotals(), budget: body.budget ?? null };
        // A new session made without resources or initial events has nothing to read back (a retried idempotent
        // create may return a session that has moved on since: that one is read).
        const bare = !body.resources?.length && !body.initial_events?.length && idempotentId === undefined;
        return bare ? sessionResponse(row, live, []) : respond(tenantId, row, live);
      },
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
        if (body.budget !== undefined) throw invalidRequest('updating a session budget is not supported yet');
        const current = await sessions.require(pool, tenantId, params);
        const row = await updateSessionRow(pool, tenantId, current.id, {
          title: body.title === undefined ? current.title : body.title,
          metadata: patchMetadata(current.metadata, body.metadata),
        });
        if (row) await announceUpdate(driver, current, row, log);
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
        await stopSessionWorkItems(pool, tenantId, current.id, false);
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
        // The session's threads' logs go with it (their rows go with the session's, by cascade).
        for (const logId of [row.id, ...(await sessionThreadIds(pool, row.id))]) {
          await deleteSessionEvents(pool, logId, makeId('event', randomUUID()));
          await deleteContextSummaries(pool, logId);
        }
        await deleteEgressRecords(pool, tenantId, row.id);
        await deleteSessionRow(pool, tenantId, row.id);
        await stopSessionWorkItems(pool, tenantId, row.id, true);
        return true;
      },
    );
}
