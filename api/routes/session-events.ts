// /v1/sessions/:id/events: list the journal (pages over seq), and send user events. The body is checked here (shape);
// the events go to the session as one update, whose validator rejects out-of-place ones (an answer nobody is waiting
// for: 400; a session that is ending: 409) before anything reaches history. Accepted events get their ids here (and
// their sender in the audit trail), so a retried delivery is deduplicated by the workflow; with an Idempotency-Key
// they derive from it, so a client's retry after an API crash is deduplicated too.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordEventActors } from '../../db/repositories/event-actors.ts';
import { listEventsPage } from '../../db/repositories/session-events.ts';
import { journalStatusOf } from '../../db/repositories/sessions.ts';
import type { UserDefineOutcomeEvent } from '../../domain/events.ts';
import { makeId } from '../../domain/ids.ts';
import { resolveOutcome } from '../outcome-events.ts';
import type { IncomingUserEvent } from '../../workflows/messages.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { idempotencyToken } from '../idempotency.ts';
import { principalId } from '../principal.ts';
import { conflict } from '../errors.ts';
import { sessions } from '../resources.ts';
import { pageSchema } from '../schemas/common.ts';
import { listEventsQuerySchema, sendEventsSchema, sessionEventSchema, type UserEventBody } from '../schemas/events.ts';
import { SessionClosedError } from '../session-driver.ts';

const tags = ['events'];

/** The event as the workflow takes it: null optionals dropped. */
function toIncoming(
  event: UserEventBody | Omit<UserDefineOutcomeEvent, 'id' | 'processed_at'>,
  id: string,
): IncomingUserEvent {
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
      const { events } = request.body;
      // Whether the message would start an idle session is read beside the session's own row (both round trips on
      // every message's path); the status is used only once the row is found to be the caller's.
      const startsTurn = events.some((event) => event.type === 'user.message' || event.type === 'user.define_outcome');
      const status = startsTurn ? journalStatusOf(pool, request.params.session_id) : undefined;
      status?.catch(() => undefined); // awaited below; this only keeps a refused request from leaving it unhandled
      const row = await sessions.require(pool, request.tenantId, request.params);
      if (row.archived_at) throw conflict('the session is archived and accepts no more events');
      // The admission check runs beside the ids and the audit record.
      const admitted = (async () => {
        if (!status) return;
        const journalStatus = await status;
        if (journalStatus !== 'running' && journalStatus !== 'rescheduling') {
          await quotas.assertCanStartSession(request, row.id);
        }
      })();
      admitted.catch(() => undefined); // awaited below; this only keeps an early throw from leaving it unhandled
      // With an Idempotency-Key the ids come from it: a retry after a crash sends the same ids, which the workflow
      // recognises as already received.
      const accepted = await Promise.all(
        events.map(async (event, index) => {
          const id = makeId('event', idempotencyToken(request, index) ?? randomUUID());
          const resolved =
            event.type === 'user.define_outcome' ? await resolveOutcome(pool, request.tenantId, event, id) : event;
          return toIncoming(resolved, id);
        }),
      );
      await Promise.all([
        admitted,
        recordEventActors(pool, {
          tenantId: request.tenantId,
          sessionId: row.id,
          apiKeyId: request.caller?.keyId ?? (request.principal ? principalId(request.principal) : ''),
          eventIds: accepted.map((event) => event.id as string),
        }),
      ]);
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
