// Shared request/response pieces: metadata maps, list queries (the SDK sends arrays as `name[]=a&name[]=b`), pages.
import { z } from 'zod';

export const metadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((value) => Object.keys(value).length <= 16, 'at most 16 metadata pairs');

export const metadataPatchSchema = z
  .record(z.string().min(1).max(64), z.string().max(512).nullable())
  .refine((value) => Object.keys(value).length <= 16, 'at most 16 metadata pairs');

export const timestampSchema = z.iso.datetime({ offset: true });

const booleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');

/** A query parameter that may arrive once (a string) or repeated (an array). */
export const queryArray = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]), z.array(item));

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  page: z.string().min(1).max(200).optional(),
  include_archived: booleanQuery.optional(),
});

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_page: z.string().nullable() });

export const deletedSchema = <T extends string>(type: T) => z.object({ id: z.string(), type: z.literal(type) });

/** A bare host name, an IPv4 address or a `*.` wildcard (subdomains): no scheme, port, path or IPv6 address. */
export const allowedHost = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
    'a host name, an IPv4 address or *.domain (no scheme, port or path)',
  );
