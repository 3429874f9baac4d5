// Memory store, memory and memory version schemas (the SDK's beta/memory-stores types).
import { z } from 'zod';
import { maxMemoryContentBytes } from '../../domain/memory.ts';
import { listQuerySchema, metadataPatchSchema, metadataSchema, timestampSchema } from './common.ts';

const noControl = (value: string) => !/\p{Cc}/u.test(value);
const storeName = z.string().min(1).max(255).refine(noControl, 'a name cannot contain control characters');
const description = z.string().max(1024);

export const memoryStoreCreateSchema = z.object({
  name: storeName,
  description: description.optional(),
  metadata: metadataSchema.optional(),
});

export const memoryStoreUpdateSchema = z.object({
  name: storeName.nullish(),
  description: description.nullish(),
  metadata: metadataPatchSchema.nullish(),
});

export const memoryStoreListQuerySchema = listQuerySchema.extend({
  'created_at[gte]': timestampSchema.optional(),
  'created_at[lte]': timestampSchema.optional(),
});

export const memoryStoreSchema = z
  .object({
    id: z.string(),
    type: z.literal('memory_store'),
    name: z.string(),
    description: z.string(),
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    archived_at: z.string().nullable(),
  })
  .meta({ id: 'MemoryStore' });

const view = z.enum(['basic', 'full']);
export const viewQuerySchema = z.object({ view: view.optional() });

// Byte limits are checked on the decoded text (domain/memory.ts); this only bounds what is parsed.
const content = z.string().max(maxMemoryContentBytes);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hexadecimal characters');

export const memoryCreateSchema = z.object({ path: z.string().min(1).max(1024), content: content.nullable() });

export const memoryUpdateSchema = z.object({
  path: z.string().min(1).max(1024).nullish(),
  content: content.nullish(),
  precondition: z.object({ type: z.literal('content_sha256'), content_sha256: sha256.optional() }).optional(),
});

export const memoryListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  page: z.string().min(1).max(200).optional(),
  depth: z.coerce.number().int().min(0).max(1).default(0),
  path_prefix: z.string().min(1).max(1024).endsWith('/').optional(),
  view: view.optional(),
});

export const memoryDeleteQuerySchema = z.object({ expected_content_sha256: sha256.optional() });

export const memorySchema = z
  .object({
    id: z.string(),
    type: z.literal('memory'),
    memory_store_id: z.string(),
    path: z.string(),
    content: z.string().nullable().optional(),
    content_sha256: z.string(),
    content_size_bytes: z.number(),
    memory_version_id: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Memory' });

export const memoryListItemSchema = z.union([
  memorySchema,
  z.object({ type: z.literal('memory_prefix'), path: z.string() }),
]);

const actorSchema = z.union([
  z.object({ type: z.literal('api_actor'), api_key_id: z.string() }),
  z.object({ type: z.literal('session_actor'), session_id: z.string() }),
]);

export const memoryVersionSchema = z
  .object({
    id: z.string(),
    type: z.literal('memory_version'),
    memory_id: z.string(),
    memory_store_id: z.string(),
    operation: z.enum(['created', 'modified', 'deleted']),
    content: z.string().nullable(),
    content_sha256: z.string().nullable(),
    content_size_bytes: z.number().nullable(),
    path: z.string().nullable(),
    created_at: z.string(),
    created_by: actorSchema.nullable(),
    redacted_at: z.string().nullable(),
    redacted_by: actorSchema.nullable(),
  })
  .meta({ id: 'MemoryVersion' });

export const memoryVersionListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  page: z.string().min(1).max(200).optional(),
  memory_id: z.string().max(128).optional(),
  operation: z.enum(['created', 'modified', 'deleted']).optional(),
  api_key_id: z.string().max(128).optional(),
  session_id: z.string().max(128).optional(),
  service_account_id: z.string().max(128).optional(),
  'created_at[gte]': timestampSchema.optional(),
  'created_at[lte]': timestampSchema.optional(),
  view: view.optional(),
});
