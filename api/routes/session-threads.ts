// Session threads (Anthropic's multiagent sessions): GET /v1/sessions/:id/threads, …/threads/:thread_id, POST
// …/threads/:thread_id/archive, GET …/threads/:thread_id/events and …/threads/:thread_id/stream. The primary thread
// is the session itself (its id is the session id's random part under `sthr_`; its events are the session's); every
// other thread is a row of session_threads with its own event log, keyed by its thread id. Status and usage are read
// from a thread's log; archiving one ends its workflow.
import type pg from 'pg';
import { z } from 'zod';
import { emptyTotals, listEventsPage, usageBySession } from '../../db/repositories/session-events.ts';
import {
  getSessionThread,
  listSessionThreads,
  markSessionThreadArchived,
  type SessionThreadRow,
} from '../../db/repositories/session-threads.ts';
import { journalStatusOf, type SessionRow } from '../../db/repositories/sessions.ts';
import { primaryThreadId } from '../../domain/threads.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { invalidRequest, notFound } from '../errors.ts';
import { pathIdSchema, sessions } from '../resources.ts';
import { listQuerySchema, pageSchema } from '../schemas/common.ts';
import { listEventsQuerySchema, sessionEventSchema, streamQuerySchema } from '../schemas/events.ts';
import { serveEventStream } from './session-stream.ts';

const tags = ['threads'];
const threadParams = sessions.params.extend({ thread_id: pathIdSchema });

const threadSchema = z
  .object({
    id: z.string(),
    type: z.literal('session_thread'),
    session_id: z.string(),
    agent: z.record(z.string(), z.unknown()),
    parent_thread_id: z.string().nullable(),
    status: z.enum(['running', 'idle', 'rescheduling', 'terminated']),
    stats: z.object({ active_seconds: z.number(), duration_seconds: z.number() }).nullable(),
    usage: z
      .object({
        input_tokens: z.number(),
        output_tokens: z.number(),
        cache_read_input_tokens: z.number(),
        active_seconds: z.number(),
      })
      .nullable(),
    workflow_run_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    archived_at: z.string().nullable(),
  })
  .meta({ id: 'SessionThread' });

/** A thread of the session: the primary (the session itself) or a row; undefined if the session has no such one. */
interface ThreadSource {
  logId: string;
  threadId: string;
  agent: Record<string, unknown>;
  parentThreadId: string | null;
  createdAt: Date;
  updatedAt: Date;
  archivedAt: Date | null;
  workflowRunId: string | null;
}

const primaryOf = (row: SessionRow): ThreadSource => ({
  logId: row.id,
  threadId: primaryThreadId(row.id),
  agent: row.agent_snapshot as unknown as Record<string, unknown>,
  parentThreadId: null,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  archivedAt: row.archived_at,
  workflowRunId: null,
});

const childOf = (row: SessionThreadRow): ThreadSource => ({
  logId: row.id,
  threadId: row.id,
  agent: row.agent as unknown as Record<string, unknown>,
  parentThreadId: row.parent_thread_id,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  archivedAt: row.archived_at,
  workflowRunId: row.workflow_run_id,
});

async function findThread(pool: pg.Pool, session: SessionRow, threadId: string): Promise<ThreadSource> {
  if (threadId === primaryThreadId(session.id)) return primaryOf(session);
  const row = await getSessionThread(pool, session.id, threadId);
  if (!row) throw notFound('session thread', threadId);
  return childOf(row);
}

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;

async function threadResponse(pool: pg.Pool, sessionId: string, thread: ThreadSource) {
  const [status, totals] = await Promise.all([
    journalStatusOf(pool, thread.logId),
    usageBySession(pool, [thread.logId]).then((map) => map.get(thread.logId) ?? emptyTotals()),
  ]);
  const end = thread.archivedAt ?? new Date();
  return {
    id: thread.threadId,
    type: 'session_thread' as const,
    session_id: sessionId,
    agent: thread.agent,
    parent_thread_id: thread.parentThreadId,
    status: (thread.archivedAt ? 'terminated' : status) as z.infer<typeof threadSchema>['status'],
    stats: {
      active_seconds: round(totals.active_seconds),
      duration_seconds: round(Math.max(0, (end.getTime() - thread.createdAt.getTime()) / 1000)),
    },
    usage: {
      input_tokens: totals.input_tokens,
      output_tokens: totals.output_tokens,
      cache_read_input_tokens: totals.cache_read_input_tokens,
      active_seconds: round(totals.active_seconds),
    },
    workflow_run_id: thread.workflowRunId,
    created_at: thread.createdAt.toISOString(),
    updated_at: thread.updatedAt.toISOString(),
    archived_at: thread.archivedAt ? thread.archivedAt.toISOString() : null,
  };
}

export function registerSessionThreadRoutes(app: ZodApp, context: ApiContext): void {
  const { pool, driver } = context;

  app.get(
    '/v1/sessions/:session_id/threads',
    {
      schema: {
        tags,
        summary: 'List session threads (the primary thread first)',
        params: sessions.params,
        querystring: listQuerySchema.pick({ limit: true, page: true }),
        response: { 200: pageSchema(threadSchema) },
      },
    },
    async (request) => {
      const session = await sessions.require(pool, request.tenantId, request.params);
      const { limit, page } = request.query;
      const rows = await listSessionThreads(pool, session.id, { limit, page, order: 'asc' });
      const sources = [...(page ? [] : [primaryOf(session)]), ...rows.data.map(childOf)];
      const data = await Promise.all(sources.map((source) => threadResponse(pool, session.id, source)));
      return { data, next_page: rows.next_page };
    },
  );

  app.get(
    '/v1/sessions/:session_id/threads/:thread_id',
    { schema: { tags, summary: 'Get a session thread', params: threadParams, response: { 200: threadSchema } } },
    async (request) => {
      const session = await sessions.require(pool, request.tenantId, request.params);
      return threadResponse(pool, session.id, await findThread(pool, session, request.params.thread_id));
    },
  );

  app.post(
    '/v1/sessions/:session_id/threads/:thread_id/archive',
    {
      schema: {
        tags,
        summary: 'Archive a session thread (its workflow ends; the coordinator can no longer continue it)',
        params: threadParams,
        response: { 200: threadSchema },
      },
    },
    async (request) => {
      const session = await sessions.require(pool, request.tenantId, request.params);
      const threadId = request.params.thread_id;
      if (threadId === primaryThreadId(session.id)) {
        throw invalidRequest('the primary thread is the session itself: archive the session instead');
      }
      const row = await markSessionThreadArchived(pool, session.id, threadId);
      if (!row) throw notFound('session thread', threadId);
      await driver.requestTermination(threadId, 'archived');
      return threadResponse(pool, session.id, childOf(row));
    },
  );

  app.get(
    '/v1/sessions/:session_id/threads/:thread_id/events',
    {
      schema: {
        tags,
        summary: "List a session thread's events",
        params: threadParams,
        querystring: listEventsQuerySchema,
        response: { 200: pageSchema(sessionEventSchema) },
      },
    },
    async (request) => {
      const session = await sessions.require(pool, request.tenantId, request.params);
      const thread = await findThread(pool, session, request.params.thread_id);
      const { query } = request;
      const types = query['types[]'] ?? query.types;
      return listEventsPage(pool, thread.logId, { limit: query.limit, page: query.page, order: query.order, types });
    },
  );

  app.get(
    '/v1/sessions/:session_id/threads/:thread_id/stream',
    {
      schema: {
        tags,
        summary: "Stream a session thread's events (text/event-stream); resumable with Last-Event-ID",
        params: threadParams,
        querystring: streamQuerySchema,
      },
    },
    async (request, reply) => {
      const session = await sessions.require(pool, request.tenantId, request.params);
      const thread = await findThread(pool, session, request.params.thread_id);
      await serveEventStream(context, request, reply, thread.logId);
    },
  );
}
