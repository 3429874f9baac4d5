// File schemas (the Files API subset sessions use).
import { z } from 'zod';

export const fileSchema = z
  .object({
    id: z.string(),
    type: z.literal('file'),
    filename: z.string(),
    mime_type: z.string(),
    size_bytes: z.number(),
    created_at: z.string(),
    downloadable: z.boolean(),
    scope: z.object({ id: z.string(), type: z.literal('session') }).nullable(),
  })
  .meta({ id: 'File' });

export const fileListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  page: z.string().min(1).max(200).optional(),
  scope_id: z.string().max(128).optional(),
});
