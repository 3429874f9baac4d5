// GET /v1/sessions/:id/trace (extension): the session's trace (domain/trace.ts) read from its event journal — turns,
// model requests, tool calls, waits, retries, errors — with sub-agent sessions nested under the tool calls that started
// them (found through Temporal's ParentWorkflowId) and a link to the workflow in Temporal UI.
import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { readEventsAfter } from '../../db/repositories/session-events.ts';
import { getSessionRow } from '../../db/repositories/sessions.ts';
import type { SessionEvent } from '../../domain/events.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { attachSubAgents, buildSessionTrace, firstUserText, type SessionTrace } from '../../domain/trace.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { notFound } from '../errors.ts';

const params = z.object({ session_id: z.string().min(1).max(128) });
const batchSize = 1_000;
/** Sub-agents of sub-agents are followed this deep. */
const maxSubAgentDepth = 3;
const childListTimeoutMs = 2_000;

const usageSchema = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_read_input_tokens: z.number(),
  cache_creation_input_tokens: z.number(),
});
const timing = {
  id: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
};
const modelRequestSpanSchema = z.object({
  kind: z.literal('model_request'),
  ...timing,
  end_event_id: z.string().nullable(),
  model: z.string().nullable(),
  summary: z.string().nullable(),
  attempt: z.number(),
  is_error: z.boolean().nullable(),
  usage: usageSchema,
  tool_use_ids: z.array(z.string()),
});
const toolSpanSchema = z.object({
  kind: z.literal('tool'),
  ...timing,
  name: z.string(),
  tool_kind: z.enum(['tool', 'custom_tool']),
  permission: z.enum(['allow', 'ask', 'deny']).nullable(),
  status: z.enum(['running', 'awaiting', 'ok', 'error', 'denied', 'cancelled']),
  input: z.record(z.string(), z.unknown()),
  output_preview: z.string().nullable(),
  output_chars: z.number(),
  is_error: z.boolean().nullable(),
  model_request_id: z.string().nullable(),
  confirmation: z
    .object({
      event_id: z.string(),
      result: z.enum(['allow', 'deny']),
      deny_message: z.string().nullable(),
      answered_at: z.string().nullable(),
      by: z.literal('user'),
    })
    .nullable(),
  custom_result_event_id: z.string().nullable(),
  wait_ms: z.number().nullable(),
  file: z
    .object({
      path: z.string(),
      operation: z.enum(['write', 'edit']),
      preview: z.string(),
      old_preview: z.string().nullable(),
    })
    .nullable(),
  // A nested SessionTrace; typed loosely so the OpenAPI document stays free of a recursive schema.
  sub_agent: z.record(z.string(), z.unknown()).nullable().meta({ description: 'The sub-agent session trace' }),
});
const waitSpanSchema = z.object({
  kind: z.literal('wait'),
  ...timing,
  reason: z.enum(['tool_confirmation', 'custom_tool_result', 'mixed']),
  awaiting: z.array(z.string()),
  answered_by: z.array(z.string()),
});
const retryWaitSpanSchema = z.object({ kind: z.literal('retry_wait'), ...timing });
const errorMarkSchema = z.object({
  kind: z.literal('error'),
  id: z.string(),
  at: z.string().nullable(),
  error_type: z.string(),
  message: z.string(),
  retry_status: z.string(),
});
const interruptMarkSchema = z.object({ kind: z.literal('interrupt'), id: z.string(), at: z.string().nullable() });
const spanSchema = z.discriminatedUnion('kind', [
  modelRequestSpanSchema,
  toolSpanSchema,
  waitSpanSchema,
  retryWaitSpanSchema,
  errorMarkSchema,
  interruptMarkSchema,
]);
const turnSchema = z.object({
  index: z.number(),
  user_message_id: z.string(),
  text: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  active_ms: z.number(),
  stop_reason: z.looseObject({ type: z.string() }).nullable(),
  usage: usageSchema,
  model_requests: z.number(),
  tool_calls: z.number(),
  errors: z.number(),
  spans: z.array(spanSchema),
});
const traceCore = {
  session_id: z.string(),
  status: z.enum(['idle', 'running', 'rescheduling', 'terminated']),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  totals: usageSchema.extend({
    model_requests: z.number(),
    tool_calls: z.number(),
    errors: z.number(),
    turns: z.number(),
    active_seconds: z.number(),
  }),
  turns: z.array(turnSchema),
  between_turns: z.array(spanSchema),
  event_count: z.number(),
};
export const sessionTraceSchema = z
  .object({
    ...traceCore,
    /** Sub-agent sessions that no tool call claimed. */
    sub_agents: z.array(z.record(z.string(), z.unknown())),
    workflow_id: z.string(),
    workflow_url: z.string(),
  })
  .meta({ id: 'SessionTrace' });

export async function readAllEvents(pool: pg.Pool, sessionId: string): Promise<SessionEvent[]> {
  const events: SessionEvent[] = [];
  let after = 0;
  for (;;) {
    const batch = await readEventsAfter(pool, sessionId, after, batchSize);
    for (const { seq, event } of batch) {
      after = seq;
      if (event.type !== 'session.deleted') events.push(event);
    }
    if (batch.length < batchSize) return events;
  }
}

/** Child session ids of a session workflow, from Temporal's visibility; none when Temporal does not answer in time. */
async function childSessionIds(client: Client, sessionId: string, log: FastifyBaseLogger): Promise<string[]> {
  const ids: string[] = [];
  try {
    await client.withDeadline(Date.now() + childListTimeoutMs, async () => {
      const query = `ParentWorkflowId = "${sessionWorkflowId(sessionId)}"`;
      for await (const execution of client.workflow.list({ query, pageSize: 100 })) {
        if (execution.workflowId.startsWith('session-')) ids.push(execution.workflowId.slice('session-'.length));
      }
    });
  } catch (error) {
    log.warn({ err: error, sessionId }, 'could not list sub-agent sessions; the trace omits them');
  }
  return [...new Set(ids)];
}

async function traceWithSubAgents(
  pool: pg.Pool,
  client: Client,
  sessionId: string,
  events: SessionEvent[],
  depth: number,
  log: FastifyBaseLogger,
): Promise<{ trace: SessionTrace; unclaimed: SessionTrace[] }> {
  const trace = buildSessionTrace(sessionId, events);
  const hasToolCalls = trace.totals.tool_calls > 0;
  if (depth >= maxSubAgentDepth || !hasToolCalls) return { trace, unclaimed: [] };
  const children = await Promise.all(
    (await childSessionIds(client, sessionId, log)).map(async (childId) => {
      const childEvents = await readAllEvents(pool, childId);
      const child = await traceWithSubAgents(pool, client, childId, childEvents, depth + 1, log);
      return { prompt: firstUserText(childEvents), trace: child.trace };
    }),
  );
  return { trace, unclaimed: attachSubAgents(trace, children) };
}

export function registerTraceRoutes(app: ZodApp, { pool, config }: ApiContext, temporalClient: Client): void {
  app.get(
    '/v1/sessions/:session_id/trace',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Trace of a session from its events: turns, model requests, tool calls, waits, errors (extension)',
        params,
        response: { 200: sessionTraceSchema },
      },
    },
    async (request) => {
      const row = await getSessionRow(pool, request.tenantId, request.params.session_id);
      if (!row) throw notFound('session', request.params.session_id);
      const events = await readAllEvents(pool, row.id);
      const { trace, unclaimed } = await traceWithSubAgents(pool, temporalClient, row.id, events, 0, request.log);
      const workflowId = sessionWorkflowId(row.id);
      const namespace = encodeURIComponent(config.TEMPORAL_NAMESPACE);
      return {
        ...trace,
        sub_agents: unclaimed,
        workflow_id: workflowId,
        workflow_url: `${config.TEMPORAL_UI_URL.replace(/\/$/, '')}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`,
      };
    },
  );
}
