// GET /v1/sessions/:id/events/stream — Server-Sent Events. Each journaled event goes out once, in the log's order, as
// `event: <type>` / `data: <json>` / `id: <position>` (the event's place in the log: its seq, until a Temporal reset
// appends a reset run's events after the old run's; db/repositories/session-events.ts). `Last-Event-ID` (or `?after=`)
// resumes after a position, replaying from the journal and then following it live; without either, only events after
// the stream opened are sent (Anthropic's behaviour). When both are given the header wins: a browser's EventSource
// reconnects to the same URL, `?after=` included, and sends the id it last saw in the header. Both must be decimal
// (an empty header counts as absent). Wake-ups come from the process's shared LISTEN; each wake re-reads "after my
// last position", so nothing is skipped or repeated. Opt-in live deltas (`event_deltas[]=agent.message`) are never
// replayed. Closes after `session.deleted`.
import { once } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { lastEventPosition, readEventsAfter } from '../../db/repositories/session-events.ts';
import type { DeltaMessage } from '../../domain/contracts/delta-message.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { invalidRequest } from '../errors.ts';
import { sessions } from '../resources.ts';
import { streamQuerySchema } from '../schemas/events.ts';

const batchSize = 500;

function parseLastEventId(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value)) throw invalidRequest('Last-Event-ID must be an event seq from this stream');
  return Number(value);
}

export type StreamRequest = Pick<FastifyRequest, 'headers' | 'log' | 'raw' | 'id' | 'method'> & {
  query: z.infer<typeof streamQuerySchema>;
};

export function registerSessionStreamRoute(app: ZodApp, context: ApiContext): void {
  app.get(
    '/v1/sessions/:session_id/events/stream',
    {
      schema: {
        tags: ['events'],
        summary: 'Stream session events (text/event-stream); resumable with Last-Event-ID',
        params: sessions.params,
        querystring: streamQuerySchema,
      },
    },
    async (request, reply) => {
      const row = await sessions.require(context.pool, request.tenantId, request.params);
      await serveEventStream(context, request, reply, row.id);
    },
  );
}

/** Streams one event log (a session's, or a session thread's: its id keys the log) as SSE, resumable by position. */
export async function serveEventStream(
  { pool, notifier, heartbeatMs, openStreams }: ApiContext,
  request: StreamRequest,
  reply: FastifyReply,
  logId: string,
): Promise<void> {
  const resumeAfter = parseLastEventId(request.headers['last-event-id']) ?? request.query.after;
  const wantedDeltas = new Set(request.query['event_deltas[]'] ?? request.query.event_deltas ?? []);
  // HEAD gets the stream's headers and ends: an open stream could never end, and a keep-alive client would wait
  // behind it on the same connection.
  if (request.method === 'HEAD') {
    await reply.type('text/event-stream; charset=utf-8').send();
    return;
  }
  const sessionId = logId;
  const raw = reply.raw;

  let lastPosition = 0;
  let ready = false;
  let closed = false;
  let pumping = false;
  let again = false;
  const startedEvents = new Set<string>();
  const finishedEvents = new Set<string>();
  // Deltas that came while the pump was reading: their turn's events were committed (and announced) before them, so
  // they wait until the pump has written what it read; otherwise a delta would overtake the events it follows.
  const heldDeltas: DeltaMessage[] = [];

  const write = async (frame: string): Promise<void> => {
    if (closed) return;
    if (!raw.write(frame)) await Promise.race([once(raw, 'drain'), once(raw, 'close')]);
  };

  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(timers.heartbeat);
    unsubscribe?.();
    openStreams.delete(close);
    raw.end();
  };

  const pump = async (): Promise<void> => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          const batch = await readEventsAfter(pool, sessionId, lastPosition, batchSize);
          for (const { position, event } of batch) {
            if (closed) return;
            lastPosition = position;
            if (event.type === 'agent.message' || event.type === 'agent.thinking') finishedEvents.add(event.id);
            await write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\nid: ${position}\n\n`);
            if (event.type === 'session.deleted') return close();
          }
          if (batch.length < batchSize) break;
        }
      } while (again && !closed);
    } catch (error) {
      request.log.warn(
        { err: error, sessionId },
        'event stream failed; closing it (the client resumes with Last-Event-ID)',
      );
      const body = {
        type: 'error',
        error: { type: 'api_error', message: 'the event stream was interrupted; reconnect' },
      };
      await write(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
      close();
    } finally {
      pumping = false;
      for (const notice of heldDeltas.splice(0)) onDelta(notice);
    }
  };

  const onDelta = (notice: DeltaMessage): void => {
    if (!ready || closed || !wantedDeltas.has(notice.event_type) || finishedEvents.has(notice.event_id)) return;
    if (pumping) {
      heldDeltas.push(notice);
      return;
    }
    let frames = '';
    if (!startedEvents.has(notice.event_id)) {
      startedEvents.add(notice.event_id);
      const start = { type: 'event_start', event: { type: notice.event_type, id: notice.event_id } };
      frames += `event: event_start\ndata: ${JSON.stringify(start)}\n\n`;
    }
    const delta = {
      type: 'event_delta',
      event_id: notice.event_id,
      delta: { type: 'content_delta', index: notice.index, content: { type: 'text', text: notice.text } },
    };
    frames += `event: event_delta\ndata: ${JSON.stringify(delta)}\n\n`;
    void write(frames);
  };

  // Listen before reading, so an event committed in between is either read now or announced later.
  const timers: { heartbeat?: NodeJS.Timeout } = {};
  const unsubscribe = await notifier.subscribe(sessionId, {
    wake: () => {
      if (ready) void pump();
    },
    delta: onDelta,
  });
  try {
    if (resumeAfter !== undefined) lastPosition = resumeAfter;
    else lastPosition = await lastEventPosition(pool, sessionId);
  } catch (error) {
    unsubscribe();
    throw error;
  }

  reply.hijack();
  if (raw.destroyed) {
    // The client left while the session was looked up: its 'close' has fired already and would never run close().
    unsubscribe();
    return;
  }
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'request-id': String(request.id),
  });
  raw.write(': stream open\n\n');
  timers.heartbeat = setInterval(() => void write('event: ping\ndata: {"type":"ping"}\n\n'), heartbeatMs);
  openStreams.add(close);
  request.raw.on('close', close);
  raw.on('close', close);
  raw.on('error', close);
  ready = true;
  void pump();
}
