// GET /v1/sessions/:id/trace (extension): the session's trace (domain/trace/) read from its event journal — turns,
// model requests, tool calls, waits, retries, errors — with sub-agent sessions nested under the tool calls that started
// them (found through Temporal's ParentWorkflowId), the sandbox lifecycle read from the activities in the workflow's
// history (api/sandbox-history.ts) and a link to the workflow in Temporal UI.
import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { eventActorsOf } from '../../db/repositories/event-actors.ts';
import { readEventsAfter } from '../../db/repositories/session-events.ts';
import type { SessionEvent } from '../../domain/events.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { buildSessionTrace } from '../../domain/trace/build.ts';
import { sessionTraceSchema, type SessionTrace } from '../../domain/trace/schema.ts';
import { attributeActors } from '../../domain/trace/actors.ts';
import { attachSubAgents, firstUserText } from '../../domain/trace/sub-agents.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { sessions } from '../resources.ts';
import { listEgressRecords } from '../../db/repositories/egress-log.ts';
import { buildEgressTrace } from '../../domain/trace/egress.ts';
import { readSandboxTrace } from '../sandbox-history.ts';

const batchSize = 1_000;
/** Sub-agents of sub-agents are followed this deep. */
const maxSubAgentDepth = 3;
const childListTimeoutMs = 2_000;

/** The response: the domain's trace, plus the unclaimed sub-agents and the workflow's links. */
export const sessionTraceResponseSchema = sessionTraceSchema
  .extend({
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
    for (const { position, event } of batch) {
      after = position;
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

/** The egress section lists at most this many connections (the oldest). */
const maxEgressConnections = 1_000;

export function registerTraceRoutes(app: ZodApp, { pool, config }: ApiContext, temporalClient: Client): void {
  app.get(
    '/v1/sessions/:session_id/trace',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Trace of a session from its events: turns, model requests, tool calls, waits, errors (extension)',
        params: sessions.params,
        response: { 200: sessionTraceResponseSchema },
      },
    },
    async (request) => {
      const row = await sessions.require(pool, request.tenantId, request.params);
      const [events, sandbox, egressRecords] = await Promise.all([
        readAllEvents(pool, row.id),
        readSandboxTrace(temporalClient, row.id, request.log),
        listEgressRecords(pool, request.tenantId, row.id, maxEgressConnections + 1),
      ]);
      const egress = buildEgressTrace(egressRecords, maxEgressConnections);
      const { trace, unclaimed } = await traceWithSubAgents(pool, temporalClient, row.id, events, 0, request.log);
      attributeActors(trace, await eventActorsOf(pool, row.id));
      const workflowId = sessionWorkflowId(row.id);
      const namespace = encodeURIComponent(config.TEMPORAL_NAMESPACE);
      return {
        ...trace,
        harness: row.agent_snapshot.harness ?? { type: 'native' as const },
        ...(sandbox ? { sandbox } : {}),
        ...(egress ? { egress } : {}),
        sub_agents: unclaimed,
        workflow_id: workflowId,
        workflow_url: `${config.TEMPORAL_UI_URL.replace(/\/$/, '')}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`,
      };
    },
  );
}
