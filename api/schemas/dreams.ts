// Dream schemas (the SDK's beta/dreams types).
import { z } from 'zod';
import { listQuerySchema, queryArray, timestampSchema } from './common.ts';

const statusEnum = z.enum(['pending', 'running', 'completed', 'failed', 'canceled']);
const storeId = z.string().min(1).max(128);

const dreamInput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('memory_store'), memory_store_id: storeId }),
  z.object({ type: z.literal('sessions'), session_ids: z.array(z.string().min(1).max(128)).min(1).max(100) }),
]);

const outputBehavior = z.discriminatedUnion('type', [
  z.object({ type: z.literal('create_new') }),
  z.object({ type: z.literal('update_existing'), memory_store_id: storeId }),
]);

export const dreamCreateSchema = z.object({
  inputs: z.array(dreamInput).min(1).max(2),
  model: z.union([
    z.string().min(1).max(256),
    z.object({ id: z.string().min(1).max(256), speed: z.enum(['standard', 'fast']).nullish() }),
  ]),
  instructions: z.string().min(1).max(4096).nullish(),
  output_behavior: outputBehavior.optional(),
});

export const dreamListQuerySchema = listQuerySchema.extend({
  'created_at[gt]': timestampSchema.optional(),
  'created_at[lt]': timestampSchema.optional(),
  'statuses[]': queryArray(statusEnum).optional(),
  statuses: queryArray(statusEnum).optional(),
});

export const dreamSchema = z
  .object({
    id: z.string(),
    type: z.literal('dream'),
    status: statusEnum,
    inputs: z.array(dreamInput),
    instructions: z.string().nullable(),
    model: z.object({ id: z.string(), speed: z.enum(['standard', 'fast']) }),
    output_behavior: outputBehavior,
    outputs: z.array(z.object({ type: z.literal('memory_store'), memory_store_id: z.string() })),
    session_id: z.string().nullable(),
    error: z.object({ type: z.string(), message: z.string() }).nullable(),
    usage: z.object({
      input_tokens: z.number(),
      output_tokens: z.number(),
      cache_read_input_tokens: z.number(),
      cache_creation_input_tokens: z.number(),
    }),
    created_at: z.string(),
    ended_at: z.string().nullable(),
    archived_at: z.string().nullable(),
  })
  .meta({ id: 'Dream' });
