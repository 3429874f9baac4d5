// GET /v1/sessions/:id/trace (extension): the session's trace (domain/trace.ts) read from its event journal — turns,
// model requests, tool calls, waits, retries, errors — with sub-agent sessions nested under the tool calls that started
// them (found through Temporal's ParentWorkflowId), the sandbox lifecycle read from the activities in the workflow's
// history (every run of its continue-as-new chain, up to a bound) and a link to the workflow in Temporal UI.
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import {
  decodeOptionalFailureToOptionalError,
  decodeOptionalSinglePayload,
} from '@temporalio/common/lib/internal-non-workflow/index.js';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { eventActorsOf } from '../../db/repositories/event-actors.ts';
import { readEventsAfter } from '../../db/repositories/session-events.ts';
import type { SessionEvent } from '../../domain/events.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import {
  buildSandboxSpans,
  sandboxLifecycleActivityTypes,
  type SandboxActivityRecord,
  type SandboxTrace,
} from '../../domain/sandbox-trace.ts';
import { attachSubAgents, buildSessionTrace, firstUserText, type SessionTrace } from '../../domain/trace.ts';
import { attributeActors } from '../../domain/trace-actors.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { sessions } from '../resources.ts';

const batchSize = 1_000;
/** Sub-agents of sub-agents are followed this deep. */
const maxSubAgentDepth = 3;
const childListTimeoutMs = 2_000;
/** The sandbox section reads at most this many runs of the session (the newest), within this time, else is left out. */
const maxHistoryRuns = 10;
const historyReadTimeoutMs = 5_000;
const sandboxActivityTypes = new Set(sandboxLifecycleActivityTypes);

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
const eventActorSchema = z.object({ api_key_id: z.string(), api_key_name: z.string() });
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
      approved_by: eventActorSchema.nullable().optional(),
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
  sent_by: eventActorSchema.nullable().optional(),
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
const sandboxSpanSchema = z.object({
  kind: z.enum(['create', 'restore', 'pause', 'resume', 'snapshot', 'remove']),
  summary: z.string().nullable(),
  scheduled_at: z.string(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  status: z.enum(['completed', 'failed', 'timed_out', 'canceled', 'running']),
  error: z.string().optional(),
  host_queue: z.string().nullable(),
});
const sandboxTraceSchema = z
  .object({
    spans: z.array(sandboxSpanSchema),
    runs_read: z.number(),
    older_runs_omitted: z.boolean(),
  })
  .meta({ description: "The sandbox lifecycle from the workflow's history; absent when Temporal could not be read" });
export const sessionTraceSchema = z
  .object({
    ...traceCore,
    sandbox: sandboxTraceSchema.optional(),
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

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const isoOf = (event: HistoryEvent): string | undefined => {
  const ms = optionalTsToMs(event.eventTime);
  return ms === undefined ? undefined : new Date(ms).toISOString();
};

/** What one failed, timed-out activity says, decoded (the platform encrypts failure messages in history). */
async function failureText(client: Client, failure: temporal.api.failure.v1.IFailure | null | undefined) {
  if (!failure) return undefined;
  try {
    const error = await decodeOptionalFailureToOptionalError(client.options.loadedDataConverter, failure);
    return error?.message ?? failure.message ?? undefined;
  } catch {
    return failure.message ?? undefined;
  }
}

/** The sandbox activities of one run, paired by scheduled event id, and the run it continued from. */
async function readRunSandboxActivities(
  client: Client,
  workflowId: string,
  runId: string | undefined,
): Promise<{ records: SandboxActivityRecord[]; previousRunId: string | undefined }> {
  const converter = client.options.loadedDataConverter;
  const byScheduledId = new Map<string, SandboxActivityRecord>();
  const summaries = new Map<string, Payload>();
  const failures = new Map<string, temporal.api.failure.v1.IFailure>();
  let previousRunId: string | undefined;
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      nextPageToken,
    });
    for (const event of page.history?.events ?? []) {
      const started = event.workflowExecutionStartedEventAttributes;
      if (started) previousRunId = started.continuedExecutionRunId || undefined;
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        const activityType = scheduled.activityType?.name ?? '';
        if (!sandboxActivityTypes.has(activityType)) continue;
        const id = String(event.eventId);
        byScheduledId.set(id, {
          activityType,
          scheduledAt: isoOf(event) ?? new Date(0).toISOString(),
          status: 'running',
          hostQueue: scheduled.taskQueue?.name ?? undefined,
        });
        if (event.userMetadata?.summary) summaries.set(id, event.userMetadata.summary);
        continue;
      }
      const close = closingOf(event);
      const record = close && byScheduledId.get(close.scheduledEventId);
      if (!close || !record) continue;
      if (close.status === 'started') {
        record.startedAt = isoOf(event);
        continue;
      }
      record.status = close.status;
      record.closedAt = isoOf(event);
      if (close.failure) failures.set(close.scheduledEventId, close.failure);
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);

  await Promise.all([
    ...[...summaries].map(async ([id, payload]) => {
      const summary = await decodeOptionalSinglePayload<unknown>(converter, payload).catch(() => undefined);
      const record = byScheduledId.get(id);
      if (record && typeof summary === 'string') record.summary = summary;
    }),
    ...[...failures].map(async ([id, failure]) => {
      const record = byScheduledId.get(id);
      if (record) record.failure = await failureText(client, failure);
    }),
  ]);
  return { records: [...byScheduledId.values()], previousRunId };
}

/** An activity event after scheduling: which scheduled activity it belongs to and what it says. */
function closingOf(event: HistoryEvent):
  | {
      scheduledEventId: string;
      status: 'started' | Exclude<SandboxActivityRecord['status'], 'running'>;
      failure?: temporal.api.failure.v1.IFailure | null;
    }
  | undefined {
  const id = (attributes: { scheduledEventId?: unknown } | null | undefined) => String(attributes?.scheduledEventId);
  if (event.activityTaskStartedEventAttributes) {
    return { scheduledEventId: id(event.activityTaskStartedEventAttributes), status: 'started' };
  }
  if (event.activityTaskCompletedEventAttributes) {
    return { scheduledEventId: id(event.activityTaskCompletedEventAttributes), status: 'completed' };
  }
  if (event.activityTaskFailedEventAttributes) {
    const attributes = event.activityTaskFailedEventAttributes;
    return { scheduledEventId: id(attributes), status: 'failed', failure: attributes.failure };
  }
  if (event.activityTaskTimedOutEventAttributes) {
    const attributes = event.activityTaskTimedOutEventAttributes;
    return { scheduledEventId: id(attributes), status: 'timed_out', failure: attributes.failure };
  }
  if (event.activityTaskCanceledEventAttributes) {
    return { scheduledEventId: id(event.activityTaskCanceledEventAttributes), status: 'canceled' };
  }
  return undefined;
}

/**
 * The session's sandbox lifecycle from Temporal's history: the newest run, then the runs it continued from, up to
 * maxHistoryRuns. Undefined (and a warning) when Temporal cannot be read in time: the trace goes out without it.
 */
async function readSandboxTrace(
  client: Client,
  sessionId: string,
  log: FastifyBaseLogger,
): Promise<SandboxTrace | undefined> {
  const workflowId = sessionWorkflowId(sessionId);
  try {
    return await client.withDeadline(Date.now() + historyReadTimeoutMs, async () => {
      const records: SandboxActivityRecord[] = [];
      const seen = new Set<string>();
      let runId: string | undefined;
      let runsRead = 0;
      let olderRunsOmitted = false;
      for (;;) {
        const run = await readRunSandboxActivities(client, workflowId, runId);
        records.push(...run.records);
        runsRead++;
        if (!run.previousRunId || seen.has(run.previousRunId)) break;
        if (runsRead >= maxHistoryRuns) {
          olderRunsOmitted = true;
          break;
        }
        seen.add(run.previousRunId);
        runId = run.previousRunId;
      }
      return { spans: buildSandboxSpans(records), runs_read: runsRead, older_runs_omitted: olderRunsOmitted };
    });
  } catch (error) {
    log.warn({ err: error, sessionId }, "could not read the session's history; the trace omits the sandbox lifecycle");
    return undefined;
  }
}

export function registerTraceRoutes(app: ZodApp, { pool, config }: ApiContext, temporalClient: Client): void {
  app.get(
    '/v1/sessions/:session_id/trace',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Trace of a session from its events: turns, model requests, tool calls, waits, errors (extension)',
        params: sessions.params,
        response: { 200: sessionTraceSchema },
      },
    },
    async (request) => {
      const row = await sessions.require(pool, request.tenantId, request.params);
      const [events, sandbox] = await Promise.all([
        readAllEvents(pool, row.id),
        readSandboxTrace(temporalClient, row.id, request.log),
      ]);
      const { trace, unclaimed } = await traceWithSubAgents(pool, temporalClient, row.id, events, 0, request.log);
      attributeActors(trace, await eventActorsOf(pool, row.id));
      const workflowId = sessionWorkflowId(row.id);
      const namespace = encodeURIComponent(config.TEMPORAL_NAMESPACE);
      return {
        ...trace,
        ...(sandbox ? { sandbox } : {}),
        sub_agents: unclaimed,
        workflow_id: workflowId,
        workflow_url: `${config.TEMPORAL_UI_URL.replace(/\/$/, '')}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`,
      };
    },
  );
}
