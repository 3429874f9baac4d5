// The vendor-neutral model wire: what the agent loop sends to a model and gets back. Provider adapters (activities/model)
// convert to and from these shapes; nothing provider-specific crosses this line.
import type { ModelUsageWire, RefusalStopDetails } from './events.ts';

/** Which wire protocol an agent's model speaks. `openai-chat` also covers any OpenAI-compatible server (by base URL). */
export type ModelProvider = 'anthropic' | 'openai-chat' | 'openai-responses';

export interface ModelSpec {
  provider: ModelProvider;
  /** The provider's model id, e.g. `claude-sonnet-5-5` or `gpt-5`. */
  id: string;
  /** Overrides the provider's default endpoint (OpenAI-compatible servers, the fake model server, proxies). */
  baseUrl?: string;
}

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  /** The id the model gave the call; the loop maps it to the `agent.tool_use` event id. */
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface ToolResultBlock {
  type: 'tool_result';
  toolUseId: string;
  content: TextBlock[];
  isError: boolean;
}

export type UserContentBlock = TextBlock | ToolResultBlock;
export type AssistantContentBlock = TextBlock | ToolUseBlock;

export type ModelMessage =
  { role: 'user'; content: UserContentBlock[] } | { role: 'assistant'; content: AssistantContentBlock[] };

/** A tool as the model sees it: plain data, so a request can cross into an activity. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  model: ModelSpec;
  system?: string;
  messages: ModelMessage[];
  tools: ToolSpec[];
  maxOutputTokens: number;
}

export type ModelStopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal' | 'stop_sequence';

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

export interface ModelResponse {
  /** The model id the provider reports having used. */
  model: string;
  content: AssistantContentBlock[];
  stopReason: ModelStopReason;
  usage: ModelUsage;
  /** A refusal's details, when the provider gave them. */
  stopDetails?: RefusalStopDetails;
  /** The model thought before answering (the text is live-only: streamed, not kept). */
  thinking?: boolean;
}

/** Live-only progress while a response streams; never persisted. */
export type ModelStreamPart =
  { type: 'text_delta'; index: number; text: string } | { type: 'thinking_delta'; index: number; text: string };

/** Usage as events carry it (snake_case). */
export const modelUsageWire = (usage: ModelUsage): ModelUsageWire => ({
  input_tokens: usage.inputTokens,
  output_tokens: usage.outputTokens,
  cache_creation_input_tokens: usage.cacheCreationInputTokens,
  cache_read_input_tokens: usage.cacheReadInputTokens,
});

export const emptyModelUsage = (): ModelUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
});

export const addModelUsage = (a: ModelUsage, b: ModelUsage): ModelUsage => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
  cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
  cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
});
