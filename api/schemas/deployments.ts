// Deployment and deployment-run schemas, as the SDK's types (resources/beta/deployments.d.ts, deployment-runs.d.ts)
// describe them. Initial events: `user.message` only (sessions here take no `system.message` or outcomes yet).
import { z } from 'zod';
import { runErrorTypes } from '../../domain/deployments.ts';
import { metadataPatchSchema, metadataSchema, timestampSchema } from './common.ts';
import { userMessageSchema } from './events.ts';
import { agentReference, fileResourceSchema, githubResourceSchema } from './sessions.ts';

const scheduleSchema = z.object({
  type: z.literal('cron'),
  expression: z.string().min(1).max(200),
  timezone: z.string().min(1).max(64),
});

const budgetSchema = z.object({
  type: z.literal('limit'),
  max_list_cost: z.object({ amount: z.string().regex(/^(0|[1-9]\d{0,17})$/), currency: z.literal('USD') }),
});

const resourcesSchema = z.array(z.discriminatedUnion('type', [fileResourceSchema, githubResourceSchema])).max(500);

export const deploymentCreateSchema = z.object({
  agent: agentReference,
  environment_id: z.string().min(1).max(128),
  initial_events: z.array(userMessageSchema).min(1).max(50),
  name: z.string().min(1).max(256),
  budget: budgetSchema.nullish(),
  description: z.string().max(2048).nullish(),
  metadata: metadataSchema.optional(),
  resources: resourcesSchema.optional(),
  schedule: scheduleSchema.nullish(),
  vault_ids: z.array(z.string().min(1).max(128)).max(50).optional(),
});
export type DeploymentCreateBody = z.infer<typeof deploymentCreateSchema>;

export const deploymentUpdateSchema = z.object({
  agent: agentReference.optional(),
  environment_id: z.string().min(1).max(128).optional(),
  initial_events: z.array(userMessageSchema).min(1).max(50).optional(),
  name: z.string().min(1).max(256).optional(),
  budget: budgetSchema.nullish(),
  description: z.string().max(2048).nullish(),
  metadata: metadataPatchSchema.nullish(),
  resources: resourcesSchema.nullish(),
  schedule: scheduleSchema.nullish(),
  vault_ids: z.array(z.string().min(1).max(128)).max(50).nullish(),
});
export type DeploymentUpdateBody = z.infer<typeof deploymentUpdateSchema>;

const booleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');

export const deploymentListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  page: z.string().min(1).max(200).optional(),
  agent_id: z.string().max(128).optional(),
  include_archived: booleanQuery.optional(),
  status: z.enum(['active', 'paused']).optional(),
  'created_at[gte]': timestampSchema.optional(),
  'created_at[lte]': timestampSchema.optional(),
});

const agentReferenceOut = z.object({ type: z.literal('agent'), id: z.string(), version: z.number() });

export const deploymentSchema = z
  .object({
    id: z.string(),
    type: z.literal('deployment'),
    name: z.string(),
    description: z.string().nullable(),
    agent: agentReferenceOut,
    environment_id: z.string(),
    initial_events: z.array(z.unknown()),
    resources: z.array(z.unknown()),
    vault_ids: z.array(z.string()),
    budget: budgetSchema.nullable(),
    metadata: z.record(z.string(), z.string()),
    schedule: scheduleSchema
      .extend({ last_run_at: z.string().nullable(), upcoming_runs_at: z.array(z.string()) })
      .nullable(),
    status: z.enum(['active', 'paused']),
    paused_reason: z
      .union([
        z.object({ type: z.literal('manual') }),
        z.object({ type: z.literal('error'), error: z.object({ type: z.string() }) }),
      ])
      .nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    archived_at: z.string().nullable(),
  })
  .meta({ id: 'Deployment' });

export const deploymentRunSchema = z
  .object({
    id: z.string(),
    type: z.literal('deployment_run'),
    deployment_id: z.string(),
    agent: agentReferenceOut,
    trigger_context: z.union([
      z.object({ type: z.literal('schedule'), scheduled_at: z.string() }),
      z.object({ type: z.literal('manual'), source: z.enum(['api', 'trigger_url']).optional() }),
    ]),
    session_id: z.string().nullable(),
    error: z.object({ type: z.enum(runErrorTypes), message: z.string() }).nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'DeploymentRun' });

export const deploymentRunListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  page: z.string().min(1).max(200).optional(),
  deployment_id: z.string().max(128).optional(),
  trigger_type: z.enum(['schedule', 'manual']).optional(),
  has_error: booleanQuery.optional(),
  'created_at[gt]': timestampSchema.optional(),
  'created_at[gte]': timestampSchema.optional(),
  'created_at[lt]': timestampSchema.optional(),
  'created_at[lte]': timestampSchema.optional(),
});
