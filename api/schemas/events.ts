// Session event schemas: what clients may send (user events) and the query of the list and stream endpoints.
import { z } from 'zod';
import { queryArray } from './common.ts';

const textBlock = z.object({ type: z.literal('text'), text: z.string().max(1_000_000) });
const sourceSchema = z.looseObject({ type: z.string().min(1) });
const imageBlock = z.object({ type: z.literal('image'), source: sourceSchema });
const documentBlock = z.object({
  type: z.literal('document'),
  source: sourceSchema,
  title: z.string().nullish(),
  context: z.string().nullish(),
});
export const userContentSchema = z.discriminatedUnion('type', [textBlock, imageBlock, documentBlock]);

export const userMessageSchema = z.object({
  type: z.literal('user.message'),
  content: z.array(userContentSchema).min(1).max(100),
});
/** `session_thread_id`: interrupt that thread only; absent, every thread of the session. */
const userInterruptSchema = z.object({
  type: z.literal('user.interrupt'),
  session_thread_id: z.string().min(1).max(128).nullish(),
});
const toolConfirmationSchema = z.object({
  type: z.literal('user.tool_confirmation'),
  tool_use_id: z.string().min(1).max(128),
  result: z.enum(['allow', 'deny']),
  deny_message: z.string().max(10_000).nullish(),
});
const customToolResultSchema = z.object({
  type: z.literal('user.custom_tool_result'),
  custom_tool_use_id: z.string().min(1).max(128),
  content: z.array(userContentSchema).max(100).optional(),
  is_error: z.boolean().nullish(),
});

/** A self-hosted environment's runner answering an `agent.tool_use` (the SDK's runner also sends search results). */
const toolResultSchema = z.object({
  type: z.literal('user.tool_result'),
  tool_use_id: z.string().min(1).max(128),
  content: z
    .array(z.union([userContentSchema, z.looseObject({ type: z.literal('search_result') })]))
    .max(100)
    .optional(),
  is_error: z.boolean().nullish(),
});

/** A task with a rubric, graded after each turn (workflows/outcome.ts); a file rubric is read as UTF-8 text. */
export const defineOutcomeSchema = z.object({
  type: z.literal('user.define_outcome'),
  description: z.string().min(1).max(262_144),
  rubric: z.discriminatedUnion('type', [
    z.object({ type: z.literal('text'), content: z.string().min(1).max(262_144) }),
    z.object({ type: z.literal('file'), file_id: z.string().min(1).max(128) }),
  ]),
  max_iterations: z.number().int().min(1).max(20).nullish(),
});
export type DefineOutcomeBody = z.infer<typeof defineOutcomeSchema>;

/** System-role text for the next turn's request. */
const systemMessageSchema = z.object({
  type: z.literal('system.message'),
  content: z.array(textBlock).min(1).max(100),
});

export const userEventSchema = z.discriminatedUnion('type', [
  userMessageSchema,
  userInterruptSchema,
  toolConfirmationSchema,
  customToolResultSchema,
  toolResultSchema,
  defineOutcomeSchema,
  systemMessageSchema,
]);
export type UserEventBody = z.infer<typeof userEventSchema>;

export const sendEventsSchema = z.object({ events: z.array(userEventSchema).min(1).max(50) });

export const sessionEventSchema = z.unknown().meta({
  id: 'SessionEvent',
  description: 'A session event: {id, type, processed_at, …} in Anthropic Managed Agents vocabulary',
});

export const listEventsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  page: z.string().min(1).max(200).optional(),
  order: z.enum(['asc', 'desc']).default('asc'),
  'types[]': queryArray(z.string().min(1).max(64)).optional(),
  types: queryArray(z.string().min(1).max(64)).optional(),
});

export const streamQuerySchema = z.object({
  'event_deltas[]': queryArray(z.enum(['agent.message', 'agent.thinking'])).optional(),
  event_deltas: queryArray(z.enum(['agent.message', 'agent.thinking'])).optional(),
  /**
   * Extension: resume after this seq, as the Last-Event-ID header does (the header wins when both are given). Decimal
   * digits only, like the header: `?after=`, `1e3` or `0x1f` would otherwise coerce to a cursor nobody meant.
   */
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'after must be an event seq from this stream')
    .transform(Number)
    .optional(),
});
