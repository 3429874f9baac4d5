// The agent as a session pins it: Anthropic's agent object (snake_case, as on the wire), plus this platform's
// extensions — model provider/base URL, backend tools, sub-agent tools and limits — marked below.
import type { ModelProvider } from './model.ts';
import type { SandboxToolName } from './sandbox.ts';
import type { PinnedSkill } from './skills.ts';

export type PermissionPolicy = { type: 'always_allow' } | { type: 'always_ask' } | { type: 'auto' };

export interface ToolsetToolConfig {
  name: SandboxToolName | 'web_fetch' | 'web_search';
  enabled?: boolean;
  permission_policy?: PermissionPolicy;
}

export interface AgentToolset {
  type: 'agent_toolset_20260401';
  default_config?: { enabled?: boolean; permission_policy?: PermissionPolicy };
  configs?: ToolsetToolConfig[];
}

export interface JsonObjectSchema {
  type: 'object';
  properties?: Record<string, unknown>;
  required?: string[];
  [key: string]: unknown;
}

/** Executed by the API client: the session emits `agent.custom_tool_use` and waits for `user.custom_tool_result`. */
export interface CustomTool {
  type: 'custom';
  name: string;
  description: string;
  input_schema: JsonObjectSchema;
}

/** Extension: executed as the Temporal activity `activity` (default: the tool name) on the operator's `task_queue`. */
export interface BackendTool {
  type: 'backend';
  name: string;
  description: string;
  input_schema: JsonObjectSchema;
  task_queue: string;
  activity?: string;
  permission_policy?: PermissionPolicy;
  /** Seconds before one attempt times out (default 60). */
  timeout_seconds?: number;
}

/** Extension: runs another agent as a child session; the tool input's `prompt` is its first user message. */
export interface SubAgentTool {
  type: 'sub_agent';
  name: string;
  description: string;
  /** The child agent, pinned like the parent's. */
  agent: AgentSnapshot;
  permission_policy?: PermissionPolicy;
}

/** An MCP server the agent connects to (Anthropic's URL server definition). */
export interface McpServerDefinition {
  type: 'url';
  name: string;
  url: string;
}

/** Per-tool configuration of an MCP toolset (resolved: every field filled). */
export interface McpToolConfig {
  name: string;
  enabled: boolean;
  permission_policy: PermissionPolicy;
}

/** The tools of one MCP server, as Anthropic's `mcp_toolset` (resolved: default_config filled). */
export interface McpToolset {
  type: 'mcp_toolset';
  mcp_server_name: string;
  default_config: { enabled: boolean; permission_policy: PermissionPolicy };
  configs: McpToolConfig[];
}

export type AgentTool = AgentToolset | McpToolset | CustomTool | BackendTool | SubAgentTool;

export interface AgentModel {
  id: string;
  speed?: 'standard' | 'fast';
  /** Extension: which wire protocol; default `anthropic`. */
  provider?: ModelProvider;
  /** Extension: an OpenAI-compatible (or proxy) endpoint. */
  base_url?: string;
}

/** Extension: per-agent limits. */
export interface AgentLimits {
  /** Model calls per user turn before the turn ends (default 50). */
  max_turns?: number;
  /** max_tokens of each model call (default 4096). */
  max_output_tokens?: number;
  /** Total tokens (input + output) the session may spend; the turn ends when exceeded. */
  token_budget?: number;
}

/**
 * Extension: which loop runs the agent's turns. `native` (the default, also when absent) is the platform's own loop;
 * `code` hands each turn to a handler an operator defined with `defineAgent` (sdk/) and runs in their own worker, which
 * polls `task_queue` — the session workflow runs there, so the handler is workflow code; `openai_agents` runs the turn
 * with the OpenAI Agents SDK's Runner in the session workflow (README, *Harnesses*).
 */
export type AgentHarness =
  | { type: 'native' }
  | { type: 'code'; name: string; task_queue: string }
  | { type: 'openai_agents' }
  /** Claude Code, driven by the Claude Agent SDK, inside the session's sandbox (workflows/claude-harness.ts). */
  | { type: 'claude_agent_sdk' }
  /** Codex (`codex app-server`), driven over its JSON-RPC stdio, inside the session's sandbox (workflows/codex-harness.ts). */
  | { type: 'codex' };

export interface AgentSnapshot {
  id: string;
  type: 'agent';
  version: number;
  name: string;
  description: string | null;
  system: string | null;
  model: AgentModel;
  tools: AgentTool[];
  mcp_servers: McpServerDefinition[];
  /** Pinned with name and description (domain/skills.ts); sessions from before skills may hold bare references. */
  skills: PinnedSkill[];
  limits?: AgentLimits;
  /** The `multiagent` coordinator config, its roster pinned (domain/threads.ts); absent for a single-thread agent. */
  multiagent?: MultiagentSnapshot;
  /** Absent: the native loop. */
  harness?: AgentHarness;
}

/**
 * A coordinator's roster as a session pins it: each entry the agent's pinned snapshot (`self` resolved). Either API
 * form pins to this one (api/multiagent-config.ts); the optional members come from an advisor entry or from
 * `multiagent_20261001`, and are absent in sessions pinned before them.
 */
export interface MultiagentSnapshot {
  type: 'coordinator';
  agents: AgentSnapshot[];
  /** The model the primary thread may consult (`consult_advisor`, workflows/advisor.ts). */
  advisor?: { model: string };
  /** false: the agent may not spawn threads (`subagents` disabled): no `delegate` tool. */
  subagents?: false;
  /** true: the agent may define inline agents when it delegates (domain/inline-agents.ts). */
  inline_agents?: true;
  /** false: the agent may not start workflow runs (`workflows` disabled). */
  workflow_runs?: false;
}

export const defaultLimits = { max_turns: 50, max_output_tokens: 4096 } as const;

/** The system prompt a model call gets: the agent's own, then the session's pinned context (memory stores). */
export const withSystemContext = (system: string | null, context: string | undefined): string | undefined =>
  [system, context].filter((part): part is string => Boolean(part)).join('\n\n') || undefined;
