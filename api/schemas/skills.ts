// Skill schemas (Anthropic's /v1/skills and /v1/skills/:skill_id/versions). Uploads are multipart: see skill-upload.ts.
import { z } from 'zod';

export const skillSchema = z
  .object({
    id: z.string(),
    type: z.literal('skill'),
    display_name: z.string(),
    latest_version_id: z.string().nullable().describe('null only after every version was deleted'),
    source: z.object({ type: z.enum(['custom', 'anthropic']) }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Skill' });

export const skillVersionSchema = z
  .object({
    id: z.string().describe('the Unix epoch in microseconds at creation; pins the version in agent references'),
    type: z.literal('skill_version'),
    skill_id: z.string(),
    name: z.string(),
    description: z.string(),
    created_at: z.string(),
  })
  .meta({ id: 'SkillVersion' });

export const skillListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  page: z.string().min(1).max(200).optional(),
  source: z.enum(['custom', 'anthropic']).optional(),
});
