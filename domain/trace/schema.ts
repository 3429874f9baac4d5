// The shape of a session's trace, written once: the zod schemas the API serves (and documents in /openapi.json) and,
// inferred from them, the types the reducers build. A nested sub-agent trace is typed loosely (a record), so the
// OpenAPI document stays free of a recursive schema.
import { z } from 'zod';

export const traceUsageSchema = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_read_input_tokens: z.number(),
  cache_creation_input_tokens: z.number(),
});

const timing = {
  /** The event that opened the span. */
  id: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
};

const modelRequestSpanSchema = z.object({
  kind: z.literal('model_request'),
  ...timing,
  end_event_id: z.string().nullable(),
  model: z.string().nullable(),
  summary: z.string().nullable(),
  /** 1 for a first try; n for the (n-1)th retry after failed attempts. */
  attempt: z.number(),
  is_error: z.boolean().nullable(),
  usage: traceUsageSchema,
  /** The tool calls this response asked for. */
  tool_use_ids: z.array(z.string()),
});

/** The API key behind a user event. */
const eventActorSchema = z.object({
  api_key_id: z.string(),
  /** The key's name when it was looked up (keys are renamed only by rotation, which keeps the name). */
  api_key_name: z.string(),
});

const toolStatusSchema = z.enum(['running', 'awaiting', 'ok', 'error', 'denied', 'cancelled']);

const writtenFileSchema = z.object({
  path: z.string(),
  operation: z.enum(['write', 'edit']),
  /** The whole new content (write) or the replacement text (edit), cut to the preview length. */
  preview: z.string(),
  old_preview: z.string().nullable(),
});

const toolSpanSchema = z.object({
  kind: z.literal('tool'),
  ...timing,
  name: z.string(),
  tool_kind: z.enum(['tool', 'custom_tool', 'mcp_tool']),
  /** MCP tools: the server that provides the tool. */
  mcp_server_name: z.string().optional(),
  permission: z.enum(['allow', 'ask', 'deny']).nullable(),
  status: toolStatusSchema,
  input: z.record(z.string(), z.unknown()),
  output_preview: z.string().nullable(),
  output_chars: z.number(),
  is_error: z.boolean().nullable(),
  model_request_id: z.string().nullable(),
  /** The user.tool_confirmation that decided an `ask` tool (the API key's holder answered it). */
  confirmation: z
    .object({
      event_id: z.string(),
      result: z.enum(['allow', 'deny']),
      deny_message: z.string().nullable(),
      answered_at: z.string().nullable(),
      by: z.literal('user'),
      /** The API key that sent the confirmation (actors.ts; null when unknown). */
      approved_by: eventActorSchema.nullable().optional(),
    })
    .nullable(),
  /** The user.custom_tool_result answering a custom tool. */
  custom_result_event_id: z.string().nullable(),
  /** Time spent waiting for the client (confirmation or custom result). */
  wait_ms: z.number().nullable(),
  file: writtenFileSchema.nullable(),
  /** A sub-agent's own session trace, when the tool started one. */
  sub_agent: z.record(z.string(), z.unknown()).nullable().meta({ description: 'The sub-agent session trace' }),
});

const waitSpanSchema = z.object({
  kind: z.literal('wait'),
  ...timing,
  reason: z.enum(['tool_confirmation', 'custom_tool_result', 'mixed']),
  awaiting: z.array(z.string()),
  answered_by: z.array(z.string()),
});

const retryWaitSpanSchema = z.object({ kind: z.literal('retry_wait'), ...timing });

const errorMarkSchema = z.object({
  kind: z.literal('error'),
  id: z.string(),
  at: z.string().nullable(),
  error_type: z.string(),
  message: z.string(),
  retry_status: z.string(),
});

const interruptMarkSchema = z.object({ kind: z.literal('interrupt'), id: z.string(), at: z.string().nullable() });

const traceSpanSchema = z.discriminatedUnion('kind', [
  modelRequestSpanSchema,
  toolSpanSchema,
  waitSpanSchema,
  retryWaitSpanSchema,
  errorMarkSchema,
  interruptMarkSchema,
]);

const traceTurnSchema = z.object({
  index: z.number(),
  user_message_id: z.string(),
  /** The API key that sent the user.message (actors.ts; null when unknown). */
  sent_by: eventActorSchema.nullable().optional(),
  text: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  active_ms: z.number(),
  stop_reason: z.looseObject({ type: z.string() }).nullable(),
  usage: traceUsageSchema,
  model_requests: z.number(),
  tool_calls: z.number(),
  errors: z.number(),
  spans: z.array(traceSpanSchema),
});

const traceTotalsSchema = traceUsageSchema.extend({
  model_requests: z.number(),
  tool_calls: z.number(),
  errors: z.number(),
  turns: z.number(),
  active_seconds: z.number(),
});

const sandboxSpanSchema = z.object({
  kind: z.enum(['create', 'restore', 'pause', 'resume', 'snapshot', 'remove']),
  /** The activity's summary: tells an idle snapshot from an end-of-turn one, an idle removal from the final one. */
  summary: z.string().nullable(),
  scheduled_at: z.string(),
  /** When the work began: the last attempt's start, else (never started, e.g. a lost host) when it was scheduled. */
  started_at: z.string(),
  ended_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  status: z.enum(['completed', 'failed', 'timed_out', 'canceled', 'running']),
  error: z.string().optional(),
  host_queue: z.string().nullable(),
});

export const sandboxTraceSchema = z
  .object({
    spans: z.array(sandboxSpanSchema),
    /** Workflow runs read (a session continues-as-new); older runs beyond the API's bound are left out. */
    runs_read: z.number(),
    older_runs_omitted: z.boolean(),
  })
  .meta({ description: "The sandbox lifecycle from the workflow's history; absent when Temporal could not be read" });

const egressConnectionSchema = z.object({
  started_at: z.string(),
  ended_at: z.string().nullable(),
  host: z.string(),
  port: z.number(),
  /** `connect`: a CONNECT tunnel (HTTPS or other TCP); `http`: a plain-HTTP request forwarded by the proxy. */
  kind: z.enum(['connect', 'http']),
  verdict: z.enum(['allowed', 'denied']),
  /** TLS terminated by the proxy to substitute credentials. */
  intercepted: z.boolean(),
  reason: z.string().nullable(),
  bytes_sent: z.number(),
  bytes_received: z.number(),
  credential_ids: z.array(z.string()),
});

export const egressTraceSchema = z
  .object({
    connections: z.array(egressConnectionSchema),
    totals: z.object({ allowed: z.number(), denied: z.number(), bytes_sent: z.number(), bytes_received: z.number() }),
    /** More connections were recorded than the trace lists (the totals count the listed ones). */
    truncated: z.boolean(),
  })
  .meta({ description: "Every connection the session's sandboxes made through the egress proxy; absent when none" });

/** A session's trace as domain code builds it; the API adds its links and unclaimed sub-agents (api/routes/trace.ts). */
export const sessionTraceSchema = z.object({
  session_id: z.string(),
  status: z.enum(['idle', 'running', 'rescheduling', 'terminated']),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  totals: traceTotalsSchema,
  turns: z.array(traceTurnSchema),
  /** What happened between turns (e.g. a sandbox error while idle). */
  between_turns: z.array(traceSpanSchema),
  event_count: z.number(),
  /** The sandbox lifecycle from Temporal's history; set by the API, absent when history could not be read. */
  sandbox: sandboxTraceSchema.optional(),
  /** Which loop ran the turns (the agent's harness, domain/agent.ts); set by the API from the pinned agent. */
  harness: z
    .object({
      type: z.enum(['native', 'code', 'openai_agents', 'claude_agent_sdk', 'codex']),
      name: z.string().optional(),
      task_queue: z.string().optional(),
    })
    .optional(),
  /** The sandboxes' connections through the egress proxy; set by the API, absent when there were none. */
  egress: egressTraceSchema.optional(),
});

export type EventActor = z.infer<typeof eventActorSchema>;
export type TraceUsage = z.infer<typeof traceUsageSchema>;
export type ModelRequestSpan = z.infer<typeof modelRequestSpanSchema>;
export type ToolStatus = z.infer<typeof toolStatusSchema>;
export type WrittenFile = z.infer<typeof writtenFileSchema>;
export type ToolSpan = z.infer<typeof toolSpanSchema>;
export type WaitSpan = z.infer<typeof waitSpanSchema>;
export type RetryWaitSpan = z.infer<typeof retryWaitSpanSchema>;
export type ErrorMark = z.infer<typeof errorMarkSchema>;
export type InterruptMark = z.infer<typeof interruptMarkSchema>;
export type TraceSpan = z.infer<typeof traceSpanSchema>;
export type TraceTurn = z.infer<typeof traceTurnSchema>;
export type TraceTotals = z.infer<typeof traceTotalsSchema>;
export type SandboxSpan = z.infer<typeof sandboxSpanSchema>;
export type SandboxSpanKind = SandboxSpan['kind'];
export type SandboxTrace = z.infer<typeof sandboxTraceSchema>;
export type EgressConnection = z.infer<typeof egressConnectionSchema>;
export type EgressTrace = z.infer<typeof egressTraceSchema>;
export type SessionTrace = z.infer<typeof sessionTraceSchema>;
