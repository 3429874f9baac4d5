// The session workflow's contract: its input (everything pinned at creation), the state it carries across
// continue-as-new, and what its query returns. Any Temporal client can start and drive a session with these.
import type { AgentSnapshot } from './agent.ts';
import type { SessionBudget, SessionStatus, StopReason, ThreadMessageReceivedEvent, UserEvent } from './events.ts';
import type { PinnedBudget } from './budget.ts';
import type { ContextRef } from './contracts/model-activity.ts';
import type { ModelUsage } from './model.ts';
import { defaultSandboxSpec, type SandboxLease, type SandboxSpec } from './sandbox.ts';
import type { ThreadContext, ThreadRecord } from './threads.ts';
import type { McpCatalog } from './tools/mcp-tools.ts';

export const sessionWorkflowType = 'sessionWorkflow';

export interface EnvironmentSnapshot {
  id: string;
  name: string;
  /** The container the session's sandboxed tools run in. */
  sandbox: SandboxSpec;
  /** Packages installed into the sandbox image (built once per environment version and host, then cached). */
  packages?: EnvironmentPackages;
  /** A `self_hosted` environment: the built-in tools run on the customer's runner, which polls the work queue. */
  selfHosted?: boolean;
}

export interface EnvironmentPackages {
  apt?: string[];
  pip?: string[];
  npm?: string[];
}

/** Timings and retry knobs; tests shorten them (the time-skipping server is not available offline). */
export interface SessionSettings {
  /** Idle time before the sandbox is paused. */
  idlePauseMs: number;
  /** Idle time before the sandbox is snapshotted and removed (≥ idlePauseMs). */
  idleSnapshotMs: number;
  /** Attempts of one model call before the turn ends with `retries_exhausted`. */
  modelMaxAttempts: number;
  modelRetryInitialMs: number;
  modelRetryMaxMs: number;
  /** Per-call model timeout (start to close). */
  modelTimeoutMs: number;
  /** A model call whose worker stops heartbeating for this long is retried (a killed model worker). */
  modelHeartbeatTimeoutMs: number;
  /** How long an operation waits for the sandbox host's worker before the sandbox is recreated elsewhere. */
  sandboxHostTimeoutMs: number;
  /** A sandbox operation whose worker stops heartbeating for this long is retried (a killed sandbox worker). */
  sandboxHeartbeatTimeoutMs: number;
  /** Sandbox tool timeout (one exec). */
  toolTimeoutMs: number;
  /** Continue-as-new after this many turns even if Temporal does not suggest it yet (0 = only when suggested). */
  continueAsNewEveryTurns: number;
  /** Task-queue prefix (tests; several deployments in one namespace). */
  taskQueuePrefix: string;
  /**
   * The region the session is placed in (domain/regions.ts): its workflow, model and sandbox queues are that region's.
   * Absent: no regions (the shared queues), as for every session started before regions.
   */
  region?: string;
  /** With a region: how long a model call waits for the region's model workers before going to the shared queue. */
  modelRegionWaitMs?: number;
  /** One MCP tool call's timeout (default 60 s; absent in sessions started before MCP). */
  mcpToolTimeoutMs?: number;
  /** Share of the model's context window past which older turns are compacted (absent: the default, 0.8). */
  compactionThreshold?: number;
  /** The context window in tokens, overriding the per-model table (domain/compaction.ts); tests make it small. */
  contextWindowTokens?: number;
}

export const defaultSessionSettings: SessionSettings = {
  idlePauseMs: 60_000,
  idleSnapshotMs: 10 * 60_000,
  modelMaxAttempts: 5,
  modelRetryInitialMs: 1_000,
  modelRetryMaxMs: 60_000,
  modelTimeoutMs: 10 * 60_000,
  modelHeartbeatTimeoutMs: 30_000,
  sandboxHostTimeoutMs: 60_000,
  sandboxHeartbeatTimeoutMs: 60_000,
  toolTimeoutMs: 120_000,
  continueAsNewEveryTurns: 0,
  taskQueuePrefix: '',
};

export interface SessionWorkflowInput {
  sessionId: string;
  tenantId: string;
  title: string | null;
  agent: AgentSnapshot;
  environment: EnvironmentSnapshot;
  vaultIds: string[];
  settings: SessionSettings;
  /** Set when this session is a sub-agent: it runs `initialMessage` to the end of one turn and returns the answer. */
  parent?: { sessionId: string; toolUseId: string };
  /** Appended to the agent's system prompt on every model call: the attached memory stores' section, pinned at creation. */
  systemContext?: string;
  /** Set when this workflow is a session thread other than the primary (domain/threads.ts). */
  thread?: ThreadContext;
  /** Events to process at start (sub-agent prompt; API `initial_events`). */
  initialEvents?: UserEvent[];
  /** The API's session budget (a list-cost ceiling), with the prices it is tracked at; absent: uncapped. */
  budget?: PinnedBudget;
  /** State carried across continue-as-new; absent on the first run. */
  carried?: CarriedSessionState;
}

export interface SessionStats {
  /** Milliseconds spent in `running` (metered). */
  activeMs: number;
  turns: number;
  modelCalls: number;
  toolCalls: number;
}

export interface CarriedSessionState {
  nextSeq: number;
  usage: ModelUsage;
  stats: SessionStats;
  lease?: SandboxLease;
  lastSnapshotId?: string;
  /** User event ids already accepted, for idempotent signals (bounded). */
  seenEventIds: string[];
  queue: QueuedEvent[];
  runsSoFar: number;
  /** The MCP tools each server listed, discovered once per session (absent before MCP, or without MCP toolsets). */
  mcpCatalog?: McpCatalog;
  /** The compacted context (absent before compaction, or never compacted). */
  context?: CarriedContext;
  /** The session threads the primary thread started (absent without any). */
  threads?: ThreadRecord[];
}

export interface CarriedContext {
  ref?: ContextRef;
  /** Tokens of the last model request and its answer (the base of the next request's estimate). */
  requestTokens: number;
}

/** What waits in a session's queue: user events, and (in a session thread) messages from other threads. */
export type QueuedEvent = UserEvent | ThreadMessageReceivedEvent;

export interface PendingAction {
  /**
   * The `agent.tool_use` (ask) or `agent.custom_tool_use` event id awaiting the client, or an `agent.tool_use` of a
   * self-hosted environment awaiting the runner's `user.tool_result` (kind `tool_result`).
   */
  eventId: string;
  kind: 'confirmation' | 'custom_tool_result' | 'tool_result';
  name: string;
}

export interface SessionStateView {
  sessionId: string;
  status: SessionStatus;
  stopReason: StopReason | null;
  pendingActions: PendingAction[];
  usage: ModelUsage;
  stats: SessionStats;
  /** Seq of the last event written to the journal. */
  lastSeq: number;
  sandbox: { state: 'none' | 'running' | 'paused' | 'snapshotted'; hostQueue?: string };
  queuedEvents: number;
  /** The session's budget, when it has one. */
  budget?: SessionBudget;
}

/** What a sub-agent session returns to its parent's tool call. */
export interface SubAgentResult {
  sessionId: string;
  text: string;
  isError: boolean;
}

/** The sandbox image sessions use when their input names none. */
export const defaultSandboxImage = 'agents-sandbox:latest';

/**
 * Fills what a hand-written start (the temporal CLI, another SDK) may leave out: settings, environment, vault ids,
 * title and the agent's optional fields. The API always sends complete inputs; this only adds defaults.
 */
export function withSessionDefaults(input: SessionWorkflowInput): SessionWorkflowInput {
  const partial = input as Partial<SessionWorkflowInput> & Pick<SessionWorkflowInput, 'sessionId' | 'agent'>;
  const agent = input.agent as Partial<AgentSnapshot> & Pick<AgentSnapshot, 'id' | 'model'>;
  return {
    ...input,
    tenantId: partial.tenantId ?? 'default',
    title: partial.title ?? null,
    vaultIds: partial.vaultIds ?? [],
    settings: { ...defaultSessionSettings, ...partial.settings },
    environment: partial.environment ?? {
      id: 'env_default',
      name: 'default',
      sandbox: defaultSandboxSpec(defaultSandboxImage),
    },
    agent: {
      type: 'agent',
      version: 1,
      name: agent.id,
      description: null,
      system: null,
      tools: [],
      mcp_servers: [],
      skills: [],
      ...agent,
    },
  };
}
