// Session events in Anthropic's Managed Agents vocabulary (snake_case, as on the wire). The session workflow decides
// every event (id, order, processed_at); the journal stores them; the API serves them as they are.

export interface TextContent {
  type: 'text';
  text: string;
}

/** User content: text is what the model sees; image/document blocks are kept for the log and summarised for models. */
export type UserContent = TextContent | { type: 'image'; source: unknown } | { type: 'document'; source: unknown };

export type StopReason =
  | { type: 'end_turn' }
  | { type: 'requires_action'; event_ids: string[] }
  | { type: 'retries_exhausted' }
  | { type: 'budget_reached' }
  | { type: 'refusal' };

/** Why a turn was refused, as the provider said it (the API's `stop_details` on an idle status with `refusal`). */
export interface RefusalStopDetails {
  type: 'refusal';
  /** The provider's policy category (new values may come), or null when it names none. */
  category: string | null;
  explanation: string | null;
}

export const refusalDetails = (category?: string | null, explanation?: string | null): RefusalStopDetails => ({
  type: 'refusal',
  category: category ?? null,
  explanation: explanation ?? null,
});

/** `stop_details` of an idle status: null unless the turn was refused. */
export type StopDetails = RefusalStopDetails | null;

export type SessionStatus = 'idle' | 'running' | 'rescheduling' | 'terminated';

export interface ModelUsageWire {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type RetryStatus = 'retrying' | 'exhausted' | 'terminal';

interface EventBase {
  id: string;
  processed_at: string | null;
}

export type UserMessageEvent = EventBase & { type: 'user.message'; content: UserContent[] };
/** `session_thread_id`: only that thread is interrupted; absent, every thread of the session is. */
export type UserInterruptEvent = EventBase & { type: 'user.interrupt'; session_thread_id?: string | null };
export type UserToolConfirmationEvent = EventBase & {
  type: 'user.tool_confirmation';
  tool_use_id: string;
  result: 'allow' | 'deny';
  deny_message?: string;
  /** Set by the session to the thread the confirmation was routed to. */
  session_thread_id?: string;
};
export type UserCustomToolResultEvent = EventBase & {
  type: 'user.custom_tool_result';
  custom_tool_use_id: string;
  content?: UserContent[];
  is_error?: boolean;
  /** Set by the session to the thread the result was routed to. */
  session_thread_id?: string;
};
/** A built-in tool's result from a self-hosted environment's runner, answering an `agent.tool_use`. */
export type UserToolResultEvent = EventBase & {
  type: 'user.tool_result';
  tool_use_id: string;
  content?: UserContent[];
  is_error?: boolean;
};
/** How a grader judges an outcome; file rubrics are resolved to their text before they reach the session. */
export type OutcomeRubric = { type: 'text'; content: string };
/** A task with a rubric: the agent works on it, a grader evaluates each attempt (workflows/outcome.ts). */
export type UserDefineOutcomeEvent = EventBase & {
  type: 'user.define_outcome';
  description: string;
  rubric: OutcomeRubric;
  max_iterations: number | null;
  /** `outc_…`, assigned when the session takes the outcome up. */
  outcome_id?: string;
};
/** System-role text appended to the conversation; it reaches the model with the next turn. */
export type SystemMessageEvent = EventBase & { type: 'system.message'; content: TextContent[] };
export type UserEvent =
  | UserMessageEvent
  | UserInterruptEvent
  | UserToolConfirmationEvent
  | UserCustomToolResultEvent
  | UserToolResultEvent
  | UserDefineOutcomeEvent
  | SystemMessageEvent;

export type AgentEvent =
  | (EventBase & { type: 'agent.message'; content: TextContent[] })
  | (EventBase & { type: 'agent.thinking' })
  /** Older turns were replaced by a summary in what later model requests carry (the log keeps them). */
  | (EventBase & { type: 'agent.thread_context_compacted' })
  | (EventBase & {
      type: 'agent.tool_use';
      name: string;
      input: Record<string, unknown>;
      evaluated_permission?: 'allow' | 'ask' | 'deny';
      /** Set on a thread's permission request cross-posted to the primary thread's stream. */
      session_thread_id?: string;
    })
  | (EventBase & { type: 'agent.tool_result'; tool_use_id: string; content?: TextContent[]; is_error?: boolean })
  | (EventBase & {
      type: 'agent.custom_tool_use';
      name: string;
      input: Record<string, unknown>;
      session_thread_id?: string;
    })
  | McpToolUseEvent
  | (EventBase & {
      type: 'agent.mcp_tool_result';
      mcp_tool_use_id: string;
      content?: TextContent[];
      is_error?: boolean;
    });

/** How a permission policy decided a call (Anthropic's `evaluation`); `auto` carries the per-call judgement. */
export type ToolEvaluation =
  | { type: 'always_allow' }
  | { type: 'always_ask' }
  | { type: 'auto'; evaluated_permission: { type: 'allow' } | { type: 'ask' | 'deny'; reason_code: string } };

export type McpToolUseEvent = EventBase & {
  type: 'agent.mcp_tool_use';
  /** The MCP tool's own name. */
  name: string;
  mcp_server_name: string;
  input: Record<string, unknown>;
  evaluated_permission?: 'allow' | 'ask' | 'deny';
  evaluation?: ToolEvaluation;
  /** Extension: the name the model called, when it differs from `name` (two servers offered the same name). */
  tool_name?: string;
};

export type SessionLifecycleEvent =
  | (EventBase & { type: 'session.status_running' })
  | (EventBase & { type: 'session.status_idle'; stop_reason: StopReason; stop_details?: StopDetails })
  | (EventBase & { type: 'session.status_rescheduled' })
  | (EventBase & { type: 'session.status_terminated' })
  | (EventBase & {
      type: 'session.error';
      error: {
        type: string;
        message: string;
        retry_status: { type: RetryStatus };
        /** `credential_host_unreachable_error`: the credential and its vault. */
        credential_id?: string;
        vault_id?: string;
        /** `mcp_*_error`: the MCP server. */
        mcp_server_name?: string;
        /** `repository_*_error`: the repository resource's URL. */
        repository_url?: string | null;
      };
    })
  | (EventBase & { type: 'session.deleted' })
  | (EventBase & { type: 'session.usage'; usage: SessionUsageSnapshot; budget?: SessionBudget | null })
  | (EventBase & {
      type: 'session.updated';
      title?: string | null;
      metadata?: Record<string, string>;
      budget?: SessionBudget | null;
    });

/** The API's spend ceiling: list cost in minor units of USD (`"2500"` is $25.00). */
export interface SessionBudget {
  type: 'limit';
  max_list_cost: { amount: string; currency: 'USD' };
}

export interface SessionUsageSnapshot {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  active_seconds: number;
  list_cost?: { amount: string; currency: 'USD' };
}

/** A grader's verdict on one attempt (`span.outcome_evaluation_end.result`). */
export type OutcomeResult = 'satisfied' | 'needs_revision' | 'max_iterations_reached' | 'failed' | 'interrupted';

export type SpanEvent =
  | (EventBase & { type: 'span.model_request_start'; model?: string; summary?: string })
  | (EventBase & {
      type: 'span.model_request_end';
      model_request_start_id: string;
      is_error: boolean | null;
      model_usage: ModelUsageWire;
    })
  | (EventBase & { type: 'span.outcome_evaluation_start'; outcome_id: string; iteration: number })
  | (EventBase & { type: 'span.outcome_evaluation_ongoing'; outcome_id: string; iteration: number })
  | (EventBase & {
      type: 'span.outcome_evaluation_end';
      outcome_id: string;
      iteration: number;
      outcome_evaluation_start_id: string;
      result: OutcomeResult;
      explanation: string;
      usage: ModelUsageWire;
    });

/** Multiagent sessions (Anthropic's session threads): how threads start, change status and talk to each other. */
export type ThreadMessageReceivedEvent = EventBase & {
  type: 'agent.thread_message_received';
  content: TextContent[];
  from_session_thread_id: string;
  from_agent_name?: string | null;
};
export type ThreadEvent =
  | ThreadMessageReceivedEvent
  | (EventBase & {
      type: 'agent.thread_message_sent';
      content: TextContent[];
      to_session_thread_id: string;
      to_agent_name?: string | null;
    })
  | (EventBase & {
      type: 'session.thread_created';
      session_thread_id: string;
      agent_name: string;
      workflow_run_id: string | null;
    })
  | (EventBase & { type: 'session.thread_status_running'; session_thread_id: string; agent_name: string })
  | (EventBase & {
      type: 'session.thread_status_idle';
      session_thread_id: string;
      agent_name: string;
      stop_reason: StopReason;
      stop_details: StopDetails;
    })
  | (EventBase & { type: 'session.thread_status_rescheduled'; session_thread_id: string; agent_name: string })
  | (EventBase & { type: 'session.thread_status_terminated'; session_thread_id: string; agent_name: string });

/** Why a run did not finish, or was not created (the API's `workflow_run.error` types). */
export type WorkflowRunError = {
  type: 'timeout_error' | 'program_error' | 'unknown_error' | 'thread_limit_error' | 'max_workflow_runs_error';
  /** Written by the server: never content from the run or its agents. */
  message: string;
};

/** How a run ended (`workflow_run.status_ended.result`). */
export type WorkflowRunResult =
  { type: 'completed' } | { type: 'stopped' } | { type: 'error'; error: WorkflowRunError };

/** A phase as `workflow_run.created` declares it. */
export interface WorkflowRunPhase {
  id: string;
  name: string;
  description: string | null;
}

/** Workflow runs (domain/workflow-runs.ts): every event names its run; phases as `workflow_run.created` declares them. */
export type WorkflowRunEvent =
  | (EventBase & {
      type: 'workflow_run.created';
      workflow_run_id: string;
      name: string;
      description: string | null;
      phases: WorkflowRunPhase[];
    })
  | (EventBase & { type: 'workflow_run.status_running'; workflow_run_id: string })
  | (EventBase & { type: 'workflow_run.status_idle'; workflow_run_id: string })
  | (EventBase & { type: 'workflow_run.status_ended'; workflow_run_id: string; result: WorkflowRunResult })
  | (EventBase & { type: 'workflow_run.phase_started'; workflow_run_id: string; workflow_run_phase_id: string })
  | (EventBase & {
      type: 'workflow_run.phase_ended';
      workflow_run_id: string;
      workflow_run_phase_id: string;
      phase_started_id: string;
    })
  | (EventBase & { type: 'workflow_run.error'; workflow_run_id: string | null; error: WorkflowRunError });

export type SessionEvent = UserEvent | AgentEvent | SessionLifecycleEvent | SpanEvent | ThreadEvent | WorkflowRunEvent;
export type SessionEventType = SessionEvent['type'];

/** Omit over each member of a union (Omit on the union itself would keep only the common keys). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as stored: its position in the session's total order. */
export interface JournaledEvent {
  seq: number;
  event: SessionEvent;
}

export const userEventTypes = [
  'user.message',
  'user.interrupt',
  'user.tool_confirmation',
  'user.custom_tool_result',
  'user.tool_result',
  'user.define_outcome',
  'system.message',
] as const;
