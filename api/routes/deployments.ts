// /v1/deployments: create, get, update, list, archive, pause, unpause, run (now), and the trigger URL (extension).
// The row is written first and its Temporal Schedule made to match it (api/deployment-schedules.ts) in the same
// transaction, so a deployment never exists without its schedule.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  archiveDeployment,
  insertDeployment,
  lastScheduledRunAt,
  listDeployments,
  setPausedReason,
  updateDeployment,
  type DeploymentFields,
  type DeploymentRow,
} from '../../db/repositories/deployments.ts';
import { patchMetadata } from '../../db/repositories/pagination.ts';
import { withTransaction } from '../../db/transaction.ts';
import { cronProblem, timezoneProblem, type CronSchedule, type TriggerContext } from '../../domain/deployments.ts';
import { makeId } from '../../domain/ids.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { runDeployment } from '../deployment-runner.ts';
import { deploymentResponse, runResponse } from '../deployment-view.ts';
import { conflict, invalidRequest, notFound } from '../errors.ts';
import { deployments } from '../resources.ts';
import { pageSchema } from '../schemas/common.ts';
import {
  deploymentCreateSchema,
  deploymentListQuerySchema,
  deploymentRunSchema,
  deploymentSchema,
  deploymentUpdateSchema,
  type DeploymentUpdateBody,
} from '../schemas/deployments.ts';
import { resolveSessionReferences } from '../session-creation.ts';

const { params } = deployments;
const tags = ['deployments'];
type AgentReference = string | { id: string; version?: number };

export function registerDeploymentRoutes(app: ZodApp, context: ApiContext): void {
  const { pool, schedules, config } = context;

  const requireRow = (tenantId: string, id: string) => deployments.require(pool, tenantId, { deployment_id: id });

  const respond = async (row: DeploymentRow) => {
    const [last, upcoming] = await Promise.all([lastScheduledRunAt(pool, [row.id]), schedules.upcoming(row)]);
    return deploymentResponse(row, { lastRunAt: last.get(row.id) ?? null, upcoming });
  };

  /** Validates the fields against what they reference; the agent is pinned to a version (latest for a bare id). */
  const checked = async (tenantId: string, agent: AgentReference, fields: Omit<DeploymentFields, 'agentVersion'>) => {
    const reference = typeof agent === 'string' ? { id: agent } : agent;
    if (fields.schedule) checkSchedule(fields.schedule, config.AGENTS_DEPLOYMENT_SECONDS_CRON);
    const resolved = await resolveSessionReferences(pool, tenantId, {
      agent: reference,
      environmentId: fields.environmentId,
      vaultIds: fields.vaultIds,
      resources: fields.resources as Array<{ type: string }>,
    });
    return { ...fields, agentId: resolved.agent.id, agentVersion: resolved.agent.version };
  };

  /** Writes the row and makes the schedule match in one transaction: no row without its schedule. */
  const save = async (write: (db: Parameters<typeof insertDeployment>[0]) => Promise<DeploymentRow | undefined>) =>
    withTransaction(pool, async (client) => {
      const row = await write(client);
      if (!row) return undefined;
      await schedules.sync(row);
      return row;
    });

  app.post(
    '/v1/deployments',
    {
      schema: {
        tags,
        summary: 'Create a deployment (and its Temporal Schedule when it has a cron schedule)',
        body: deploymentCreateSchema,
        response: { 200: deploymentSchema },
      },
    },
    async (request) => {
      const { body, tenantId } = request;
      const fields = await checked(tenantId, body.agent, {
        name: body.name,
        description: body.description ?? null,
        agentId: '',
        environmentId: body.environment_id,
        initialEvents: body.initial_events,
        resources: body.resources ?? [],
        vaultIds: [...new Set(body.vault_ids ?? [])],
        budget: body.budget ?? null,
        metadata: body.metadata ?? {},
        schedule: body.schedule ?? null,
      });
      const id = makeId('deployment', randomUUID());
      const row = (await save((db) => insertDeployment(db, tenantId, id, fields)))!;
      return respond(row);
    },
  );

  app.get(
    '/v1/deployments/:deployment_id',
    { schema: { tags, summary: 'Get a deployment', params, response: { 200: deploymentSchema } } },
    async (request) => respond(await requireRow(request.tenantId, request.params.deployment_id)),
  );

  app.post(
    '/v1/deployments/:deployment_id',
    {
      schema: {
        tags,
        summary: 'Update a deployment (omitted fields are kept; the schedule follows)',
        params,
        body: deploymentUpdateSchema,
        response: { 200: deploymentSchema },
      },
    },
    async (request) => {
      const { tenantId, body } = request;
      const current = await requireRow(tenantId, request.params.deployment_id);
      if (current.archived_at) throw invalidRequest(`deployment ${current.id} is archived`);
      const agent = body.agent ?? { id: current.agent_id, version: current.agent_version };
      const fields = await checked(tenantId, agent, mergedFields(current, body));
      const row = await save((db) => updateDeployment(db, tenantId, current.id, fields));
      if (!row) throw notFound('deployment', current.id);
      return respond(row);
    },
  );

  app.get(
    '/v1/deployments',
    {
      schema: {
        tags,
        summary: 'List deployments (newest first)',
        querystring: deploymentListQuerySchema,
        response: { 200: pageSchema(deploymentSchema) },
      },
    },
    async (request) => {
      const { query, tenantId } = request;
      if (query.include_archived && query.status) {
        throw invalidRequest('include_archived and status cannot be combined');
      }
      const page = await listDeployments(pool, tenantId, {
        limit: query.limit,
        page: query.page,
        includeArchived: query.include_archived,
        status: query.status,
        agentId: query.agent_id,
        createdGte: query['created_at[gte]'],
        createdLte: query['created_at[lte]'],
      });
      const last = await lastScheduledRunAt(
        pool,
        page.data.map((row) => row.id),
      );
      const upcoming = await Promise.all(page.data.map((row) => schedules.upcoming(row)));
      return {
        next_page: page.next_page,
        data: page.data.map((row, index) =>
          deploymentResponse(row, { lastRunAt: last.get(row.id) ?? null, upcoming: upcoming[index] ?? [] }),
        ),
      };
    },
  );

  registerLifecycleRoutes(app, { requireRow, respond, save });
  registerRunRoutes(app, context, requireRow);
}

interface LifecycleHelpers {
  requireRow(tenantId: string, id: string): Promise<DeploymentRow>;
  respond(row: DeploymentRow): Promise<ReturnType<typeof deploymentResponse>>;
  save(
    write: (db: Parameters<typeof insertDeployment>[0]) => Promise<DeploymentRow | undefined>,
  ): Promise<DeploymentRow | undefined>;
}

/** archive, pause, unpause: the row changes and the schedule follows (deleted, paused, resumed). */
/** The transaction the row changes in: a schedule call that fails (503) rolls the change back. */
type Db = Parameters<typeof insertDeployment>[0];

function registerLifecycleRoutes(app: ZodApp, helpers: LifecycleHelpers): void {
  const lifecycle = [
    {
      action: 'archive',
      summary: 'Archive a deployment: its schedule is deleted, its runs are kept',
      apply: (db: Db, tenantId: string, row: DeploymentRow) => archiveDeployment(db, tenantId, row.id),
    },
    {
      action: 'pause',
      summary: 'Pause a deployment: scheduled firings stop (manual runs are still allowed)',
      apply: (db: Db, tenantId: string, row: DeploymentRow) =>
        setPausedReason(db, tenantId, row.id, { type: 'manual' }),
    },
    {
      action: 'unpause',
      summary: 'Unpause a deployment: scheduled firings resume',
      apply: (db: Db, tenantId: string, row: DeploymentRow) => setPausedReason(db, tenantId, row.id, null),
    },
  ] as const;
  for (const { action, summary, apply } of lifecycle) {
    app.post(
      `/v1/deployments/:deployment_id/${action}`,
      { schema: { tags, summary, params, response: { 200: deploymentSchema } } },
      async (request) => {
        const { tenantId } = request;
        const current = await helpers.requireRow(tenantId, request.params.deployment_id);
        if (current.archived_at) {
          if (action === 'archive') return helpers.respond(current);
          throw invalidRequest(`deployment ${current.id} is archived`);
        }
        const row = await helpers.save((db) => apply(db, tenantId, current));
        if (!row) throw notFound('deployment', current.id);
        return helpers.respond(row);
      },
    );
  }
}

/** run (now) and the trigger URL: a manual firing through the same runner as the schedule's. */
function registerRunRoutes(app: ZodApp, context: ApiContext, requireRow: LifecycleHelpers['requireRow']): void {
  const fire = async (tenantId: string, deploymentId: string, trigger: TriggerContext, extraEvents?: unknown[]) => {
    const deployment = await requireRow(tenantId, deploymentId);
    if (deployment.archived_at) throw invalidRequest(`deployment ${deployment.id} is archived`);
    if (trigger.type === 'manual' && trigger.source === 'trigger_url' && deployment.paused_reason) {
      throw conflict(`deployment ${deployment.id} is paused: its trigger URL starts no runs until it is unpaused`);
    }
    const run = await runDeployment(context.runner, {
      tenantId,
      deploymentId,
      runId: makeId('deploymentRun', randomUUID()),
      sessionId: makeId('session', randomUUID()),
      trigger,
      extraEvents,
    });
    if (!run) throw notFound('deployment', deploymentId);
    return runResponse(run);
  };

  app.post(
    '/v1/deployments/:deployment_id/run',
    {
      schema: {
        tags,
        summary: 'Run a deployment now: records a run with the session it created or the error',
        params,
        response: { 200: deploymentRunSchema },
      },
    },
    async (request) => fire(request.tenantId, request.params.deployment_id, { type: 'manual', source: 'api' }),
  );

  app.post(
    '/v1/deployments/:deployment_id/trigger',
    {
      schema: {
        tags,
        summary:
          'Trigger URL (extension): start a run whose session gets the request body as one more user.message after ' +
          'the initial events (JSON bodies as JSON text, text bodies as they are)',
        params,
        body: z.unknown(),
        response: { 200: deploymentRunSchema },
      },
    },
    async (request) => {
      const text = typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? null, null, 2);
      if (text.length === 0) throw invalidRequest('the trigger needs a body: it becomes the run’s event');
      const event = { type: 'user.message', content: [{ type: 'text', text }] };
      return fire(request.tenantId, request.params.deployment_id, { type: 'manual', source: 'trigger_url' }, [event]);
    },
  );
}

function checkSchedule(schedule: CronSchedule, allowSeconds: boolean): void {
  const problem = cronProblem(schedule.expression, allowSeconds) ?? timezoneProblem(schedule.timezone);
  if (problem) throw invalidRequest(`schedule: ${problem}`);
}

/** An update body over the current row: omitted fields kept, nulls clear where the API allows it. */
function mergedFields(current: DeploymentRow, body: DeploymentUpdateBody): Omit<DeploymentFields, 'agentVersion'> {
  return {
    name: body.name ?? current.name,
    description: body.description === undefined ? current.description : body.description || null,
    agentId: current.agent_id,
    environmentId: body.environment_id ?? current.environment_id,
    initialEvents: body.initial_events ?? current.initial_events,
    resources: body.resources === undefined ? current.resources : (body.resources ?? []),
    vaultIds: body.vault_ids === undefined ? current.vault_ids : [...new Set(body.vault_ids ?? [])],
    budget: body.budget === undefined ? current.budget : body.budget,
    metadata: patchMetadata(current.metadata, body.metadata),
    schedule: body.schedule === undefined ? current.schedule : body.schedule,
  };
}
