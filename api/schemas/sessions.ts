// Session schemas: create/update bodies, list query, and the session object.
import { z } from 'zod';
import { listQuerySchema, metadataPatchSchema, metadataSchema, queryArray, timestampSchema } from './common.ts';
import { agentSnapshotFields } from './agents.ts';
import { defineOutcomeSchema, userMessageSchema } from './events.ts';

export const agentReference = z.union([
  z.string().min(1).max(128),
  z.object({
    type: z.literal('agent'),
    id: z.string().min(1).max(128),
    version: z.number().int().min(1).max(2_147_483_647).optional(),
  }),
]);

export const fileResourceSchema = z.object({
  type: z.literal('file'),
  file_id: z.string().min(1).max(128),
  mount_path: z.string().min(1).max(1024).startsWith('/').nullish(),
});

export const repositoryCheckoutSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('branch'), name: z.string().min(1).max(255) }),
  z.object({
    type: z.literal('commit'),
    sha: z.string().regex(/^[0-9a-fA-F]{40}$/, 'a full 40-character commit SHA'),
  }),
]);

export const githubResourceSchema = z.object({
  type: z.literal('github_repository'),
  url: z.string().min(1).max(2048),
  authorization_token: z.string().min(1).max(4096).optional(),
  checkout: repositoryCheckoutSchema.nullish(),
  mount_path: z.string().min(1).max(1024).startsWith('/').nullish(),
});
export type GithubResourceBody = z.infer<typeof githubResourceSchema>;

/** The SDK's ResourceUpdateParams: a repository's token is the one thing that changes. */
export const resourceUpdateSchema = z.object({ authorization_token: z.string().min(1).max(4096) });

export const memoryStoreResourceSchema = z.object({
  type: z.literal('memory_store'),
  memory_store_id: z.string().min(1).max(128),
  access: z.enum(['read_write', 'read_only']).nullish(),
  instructions: z.string().max(4096).nullish(),
});

/** The API's spend ceiling: list cost in minor units of USD (`"2500"` is $25.00). */
export const budgetSchema = z.object({
  type: z.literal('limit'),
  max_list_cost: z.object({
    amount: z.string().regex(/^(0|[1-9][0-9]{0,15})$/, 'an integer amount in minor units, e.g. "2500"'),
    currency: z.literal('USD'),
  }),
});

export const sessionCreateSchema = z.object({
  budget: budgetSchema.optional(),
  agent: agentReference,
  environment_id: z.string().min(1).max(128),
  title: z.string().max(1000).nullish(),
  metadata: metadataSchema.optional(),
  vault_ids: z.array(z.string().min(1).max(128)).max(20).optional(),
  resources: z
    .array(z.discriminatedUnion('type', [fileResourceSchema, githubResourceSchema, memoryStoreResourceSchema]))
    .max(999)
    .optional(),
  initial_events: z
    .array(z.discriminatedUnion('type', [userMessageSchema, defineOutcomeSchema]))
    .max(50)
    .optional(),
});
export type SessionCreateBody = z.infer<typeof sessionCreateSchema>;

export const sessionUpdateSchema = z.object({
  title: z.string().max(1000).nullish(),
  metadata: metadataPatchSchema.nullish(),
  vault_ids: z.array(z.string()).optional(),
  agent: z.unknown().optional(),
  budget: z.unknown().optional(),
});

const statusEnum = z.enum(['rescheduling', 'running', 'idle', 'terminated']);

export const sessionListQuerySchema = listQuerySchema.extend({
  order: z.enum(['asc', 'desc']).default('desc'),
  agent_id: z.string().max(128).optional(),
  agent_version: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
  'created_at[gt]': timestampSchema.optional(),
  'created_at[gte]': timestampSchema.optional(),
  'created_at[lt]': timestampSchema.optional(),
  'created_at[lte]': timestampSchema.optional(),
  'statuses[]': queryArray(statusEnum).optional(),
  statuses: queryArray(statusEnum).optional(),
});

const fileResourceView = z.object({
  id: z.string(),
  type: z.literal('file'),
  file_id: z.string(),
  mount_path: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

const memoryStoreResourceView = z.object({
  id: z.string(),
  type: z.literal('memory_store'),
  memory_store_id: z.string(),
  access: z.enum(['read_write', 'read_only']),
  instructions: z.string().nullable(),
  name: z.string(),
  description: z.string(),
  mount_path: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

const repositoryResourceView = z.object({
  id: z.string(),
  type: z.literal('github_repository'),
  url: z.string(),
  checkout: repositoryCheckoutSchema.nullable(),
  mount_path: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const resourceSchema = z
  .discriminatedUnion('type', [fileResourceView, memoryStoreResourceView, repositoryResourceView])
  .meta({ id: 'SessionResource' });

export const sessionSchema = z
  .object({
    id: z.string(),
    type: z.literal('session'),
    status: statusEnum,
    title: z.string().nullable(),
    agent: z.object(agentSnapshotFields),
    environment_id: z.string(),
    resources: z.array(resourceSchema),
    vault_ids: z.array(z.string()),
    metadata: z.record(z.string(), z.string()),
    stats: z.object({ active_seconds: z.number(), duration_seconds: z.number() }),
    usage: z.object({
      input_tokens: z.number(),
      output_tokens: z.number(),
      cache_read_input_tokens: z.number(),
      cache_creation_input_tokens: z.number(),
      cache_creation: z.object({ ephemeral_5m_input_tokens: z.number(), ephemeral_1h_input_tokens: z.number() }),
    }),
    budget: budgetSchema.nullable(),
    outcome_evaluations: z.array(
      z.object({
        type: z.literal('outcome_evaluation'),
        outcome_id: z.string(),
        description: z.string(),
        result: z.string(),
        iteration: z.number(),
        explanation: z.string().nullable(),
        completed_at: z.string().nullable(),
      }),
    ),
    created_at: z.string(),
    updated_at: z.string(),
    archived_at: z.string().nullable(),
  })
  .meta({ id: 'Session' });
