// The Claude Agent SDK harness's activity contract (README "Harnesses"): the workflow drives a turn in steps — a user
// message, then each answer the turn waited for (a confirmation, a custom tool's result) — and each step runs Claude
// Code inside the session's sandbox until the turn ends or waits for the client. The step returns the session events
// it saw (with ids drawn in the activity), the tokens spent, and why it stopped.
import type { SessionEvent } from '../events.ts';
import type { ModelUsage, ToolSpec } from '../model.ts';
import type { SandboxLease } from '../sandbox.ts';

type WireEvent<T extends SessionEvent['type']> = Omit<Extract<SessionEvent, { type: T }>, 'processed_at'>;

/** What Claude Code's stream becomes in the session's log. */
export type HarnessEvent =
  | WireEvent<'span.model_request_start'>
  | WireEvent<'span.model_request_end'>
  | WireEvent<'agent.message'>
  | WireEvent<'agent.tool_use'>
  | WireEvent<'agent.tool_result'>
  | WireEvent<'session.error'>;

/** One of the agent's sandbox tools as the harness offers it: the platform's name and its permission policy. */
export interface HarnessTool {
  name: string;
  policy: 'always_allow' | 'always_ask';
}

export type HarnessStep =
  | { kind: 'message'; text: string }
  | { kind: 'confirmation'; eventId: string; allow: boolean; denyMessage?: string }
  | { kind: 'custom_tool_result'; eventId: string; text: string; isError: boolean };

export interface ClaudeStepInput {
  lease: SandboxLease;
  tenantId: string;
  sessionId: string;
  model: string;
  /** The agent's `limits.token_budget`, enforced by the model gateway. */
  tokenBudget?: number;
  systemPrompt?: string;
  tools: HarnessTool[];
  customTools: ToolSpec[];
  step: HarnessStep;
}

export type HarnessPause =
  | { kind: 'end'; stop: 'end_turn' | 'interrupted' | 'error' }
  /** An `always_ask` tool waits for `user.tool_confirmation` (eventId: its `agent.tool_use`, not yet journaled). */
  | { kind: 'confirmation'; eventId: string; name: string; input: Record<string, unknown> }
  /** A custom tool waits for `user.custom_tool_result` (eventId: its `agent.custom_tool_use`, not yet journaled). */
  | { kind: 'custom_tool'; eventId: string; name: string; input: Record<string, unknown> };

export interface ClaudeStepResult {
  events: HarnessEvent[];
  usage: ModelUsage;
  pause: HarnessPause;
}

export interface InterruptClaudeInput {
  lease: SandboxLease;
  sessionId: string;
}
