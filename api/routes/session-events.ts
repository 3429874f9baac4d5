// /v1/sessions/:id/events: list the journal (pages over seq), and send user events. Sending validates each event and
// rejects out-of-place ones (a confirmation or custom tool result nobody is waiting for) with 400 before anything is
// signalled; accepted events get their ids here, so a retried signal is deduplicated by the workflow.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordEventActors } from '../../db/repositories/event-actors.ts';
import { listEventsPage } from '../../db/repositories/session-events.ts';
import { journalStatusOf } from '../../db/repositories/sessions.ts';
import { makeId } from '../../domain/ids.ts';
import type { PendingAction } from '../../domain/session.ts';
import type { IncomingUserEvent } from '../../workflows/messages.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { principalId } from '../principal.ts';
import { conflict, invalidRequest } from '../errors.ts';
import { sessions } from '../resources.ts';
import { pageSchema } from '../schemas/common.ts';
import { listEventsQuerySchema, sendEventsSchema, sessionEventSchema, type UserEventBody } from '../schemas/events.ts';
import { SessionClosedError } from '../session-driver.ts';

const tags = ['events'];
const awaitingMessage: Record<PendingAction['kind'], (id: string) => string> = {
  confirmation: (id) => `no tool use ${id} is awaiting confirmation`,
  custom_tool_result: (id) => `no custom tool use ${id} is awaiting a result`,
  tool_result: (id) => `no tool use ${id} is awaiting a self-hosted runner's result`,
};

/** The event as the workflow takes it: null optionals dropped. */
function toIncoming(event: UserEventBody, id: string): IncomingUserEvent {
  const cleaned = Object.fromEntries(
    Object.entries(event).filter(([, value]) => value !== null && value !== undefined),
  );
  return { ...cleaned, id } as IncomingUserEvent;
}

export function registerSessionEventRoutes(app: ZodApp, { pool, driver, quotas }: ApiContext): void {
  app.get(
    '/v1/sessions/:session_id/events',
    {
      schema: {
        tags,
        summary: 'List session events (oldest first by default)',
        params: sessions.params,
        querystring: listEventsQuerySchema,
        response: { 200: pageSchema(sessionEventSchema) },
      },
    },
    async (request) => {
      const row = await sessions.require(pool, request.tenantId, request.params);
      const { query } = request;
      return listEventsPage(pool, row.id, {
        limit: query.limit,
        page: query.page,
        order: query.order,
        types: query['types[]'] ?? query.types,
      });
    },
  );

  app.post(
    '/v1/sessions/:session_id/events',
    {
      schema: {
        tags,
        summary: 'Send user events (queued in order; an interrupt jumps the queue)',
        params: sessions.params,
        body: sendEventsSchema,
        response: { 200: z.object({ data: z.array(sessionEventSchema) }) },
      },
    },
    async (request) => {
      const row = await sessions.require(pool, request.tenantId, request.params);
      if (row.archived_at) throw conflict('the session is archived and accepts no more events');
      const { events } = request.body;

      const answers = events.flatMap((event): { id: string; kind: PendingAction['kind']; field: string }[] => {
        switch (event.type) {
          case 'user.tool_confirmation':
            return [{ id: event.tool_use_id, kind: 'confirmation', field: 'tool_use_id' }];
          case 'user.custom_tool_result':
            return [{ id: event.custom_tool_use_id, kind: 'custom_tool_result', field: 'custom_tool_use_id' }];
          case 'user.tool_result':
            return [{ id: event.tool_use_id, kind: 'tool_result', field: 'tool_use_id' }];
          default:
            return [];
        }
      });
      if (answers.length > 0) {
        const view = await driver.state(row.id);
        if (!view || view.status === 'terminated') throw conflict('the session has ended');
        const pending = new Map(view.pendingActions.map((action) => [action.eventId, action.kind]));
        const seen = new Set<string>();
        for (const answer of answers) {
          if (seen.has(answer.id))
            throw invalidRequest(`${answer.field} ${answer.id} is answered twice in this request`);
          seen.add(answer.id);
          if (pending.get(answer.id) !== answer.kind) {
            throw invalidRequest(awaitingMessage[answer.kind](answer.id));
          }
        }
      } else if ((await journalStatusOf(pool, row.id)) === 'terminated') {
        throw conflict('the session has ended');
      }
      if (events.some((event) => event.type === 'user.message')) {
        const status = await journalStatusOf(pool, row.id);
        if (status !== 'running' && status !== 'rescheduling') await quotas.assertCanStartSession(request, row.id);
      }

      const accepted = events.map((event) => toIncoming(event, makeId('event', randomUUID())));
      await recordEventActors(pool, {
        tenantId: request.tenantId,
        sessionId: row.id,
        apiKeyId: request.caller?.keyId ?? (request.principal ? principalId(request.principal) : ''),
        eventIds: accepted.map((event) => event.id as string),
      });
      try {
        await driver.sendEvents(row.id, accepted);
      } catch (error) {
        if (error instanceof SessionClosedError) throw conflict('the session has ended');
        throw error;
      }
      return { data: accepted.map((event) => ({ ...event, id: event.id as string, processed_at: null })) };
    },
  );
}
