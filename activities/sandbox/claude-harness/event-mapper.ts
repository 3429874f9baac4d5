// Claude Code's stream (the Claude Agent SDK's messages) as session events, in the native loop's order: each model
// request is `span.model_request_start` (its message_start) … `span.model_request_end` (its message_stop, with the
// request's usage), then the reply's text as one `agent.message`, then its tool calls as `agent.tool_use`; a tool's
// result (Claude Code's next user message) is `agent.tool_result`. Tool calls the workflow journals itself — an
// `always_ask` tool's (with its confirmation) and a custom tool's — are left out here, but keep their event ids so
// their results point at them. Messages of Claude Code's own sub-agents (parent_tool_use_id) are not mapped.
import { randomUUID } from 'node:crypto';
import type { SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import type { HarnessEvent } from '../../../domain/contracts/claude-harness.ts';
import { makeId } from '../../../domain/ids.ts';
import { addModelUsage, emptyModelUsage, type ModelUsage } from '../../../domain/model.ts';

/** How the mapper treats a Claude tool name: the platform's name, and whether the workflow journals its use. */
export interface ToolView {
  name: string;
  journaledByWorkflow: boolean;
  /** A custom tool's result is the client's `user.custom_tool_result`: no `agent.tool_result`. */
  custom: boolean;
}

interface OpenRequest {
  startId: string;
  usage: ModelUsage;
  texts: Array<{ type: 'text'; text: string }>;
  toolUses: Array<{ id: string; name: string; input: Record<string, unknown> }>;
}

type Loose = Record<string, unknown>;
const isRecord = (value: unknown): value is Loose => typeof value === 'object' && value !== null;
const newEventId = () => makeId('event', randomUUID());

function overlayUsage(usage: ModelUsage, wire: unknown): ModelUsage {
  if (!isRecord(wire)) return usage;
  const count = (key: string, fallback: number) => (typeof wire[key] === 'number' ? wire[key] : fallback);
  return {
    inputTokens: count('input_tokens', usage.inputTokens),
    outputTokens: count('output_tokens', usage.outputTokens),
    cacheReadInputTokens: count('cache_read_input_tokens', usage.cacheReadInputTokens),
    cacheCreationInputTokens: count('cache_creation_input_tokens', usage.cacheCreationInputTokens),
  };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block) => (isRecord(block) && typeof block.text === 'string' ? block.text : '')).join('');
}

export class ClaudeEventMapper {
  private events: HarnessEvent[] = [];
  private usage = emptyModelUsage();
  private request: OpenRequest | undefined;
  private readonly eventIds = new Map<string, string>();
  private readonly answered = new Set<string>();
  private readonly model: string;
  private readonly toolView: (claudeName: string) => ToolView;

  constructor(model: string, toolView: (claudeName: string) => ToolView) {
    this.model = model;
    this.toolView = toolView;
  }

  /** The session event id of a Claude tool call (drawn at first sight). */
  eventIdFor(toolUseId: string): string {
    let id = this.eventIds.get(toolUseId);
    if (!id) {
      id = newEventId();
      this.eventIds.set(toolUseId, id);
    }
    return id;
  }

  /** The newest call of this Claude tool still without a result (a custom tool's handler is not told its id). */
  openCallOf(claudeName: string): { id: string; input: Record<string, unknown> } | undefined {
    return this.lastToolUses.filter((use) => use.name === claudeName && !this.answered.has(use.id)).at(-1);
  }

  private lastToolUses: OpenRequest['toolUses'] = [];

  get inRequest(): boolean {
    return this.request !== undefined;
  }

  push(message: SDKMessage): void {
    const loose = message as unknown as Loose;
    if (loose.parent_tool_use_id) return;
    // A request cut short by an interrupt ends with a synthetic message_stop naming the blocks it abandoned.
    if (message.type === 'stream_event') this.streamEvent(loose.event, loose.abandoned_blocks !== undefined);
    else if (message.type === 'assistant') this.assistantBlocks(isRecord(loose.message) ? loose.message.content : []);
    else if (message.type === 'user') this.toolResults(isRecord(loose.message) ? loose.message.content : []);
  }

  private streamEvent(event: unknown, abandoned: boolean): void {
    if (!isRecord(event)) return;
    if (event.type === 'message_start') {
      if (this.request) this.closeRequest(true);
      const start = newEventId();
      this.events.push({
        type: 'span.model_request_start',
        id: start,
        model: this.model,
        summary: `${this.model} (claude code)`,
      });
      const usage = isRecord(event.message) ? overlayUsage(emptyModelUsage(), event.message.usage) : emptyModelUsage();
      this.request = { startId: start, usage, texts: [], toolUses: [] };
    } else if (event.type === 'message_delta' && this.request) {
      this.request.usage = overlayUsage(this.request.usage, event.usage);
    } else if (event.type === 'message_stop' && this.request) {
      this.closeRequest(abandoned);
    }
  }

  private assistantBlocks(content: unknown): void {
    if (!Array.isArray(content) || !this.request) return;
    for (const block of content) {
      if (!isRecord(block)) continue;
      if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') {
        this.request.texts.push({ type: 'text', text: block.text });
      } else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
        const input = isRecord(block.input) ? block.input : {};
        this.request.toolUses.push({ id: block.id, name: block.name, input });
      }
    }
  }

  /** Ends the open model request: its span (an error when cut short), then its text and tool calls. */
  closeRequest(isError: boolean): void {
    const request = this.request;
    if (!request) return;
    this.request = undefined;
    const usage = isError ? emptyModelUsage() : request.usage;
    this.usage = addModelUsage(this.usage, usage);
    this.events.push({
      type: 'span.model_request_end',
      id: newEventId(),
      model_request_start_id: request.startId,
      is_error: isError,
      model_usage: {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cache_creation_input_tokens: usage.cacheCreationInputTokens,
        cache_read_input_tokens: usage.cacheReadInputTokens,
      },
    });
    if (isError) return;
    if (request.texts.length > 0) this.events.push({ type: 'agent.message', id: newEventId(), content: request.texts });
    this.lastToolUses = request.toolUses;
    for (const use of request.toolUses) {
      const view = this.toolView(use.name);
      if (view.journaledByWorkflow) continue;
      const id = this.eventIdFor(use.id);
      this.events.push({
        type: 'agent.tool_use',
        id,
        name: view.name,
        input: use.input,
        evaluated_permission: 'allow',
      });
    }
  }

  private toolResults(content: unknown): void {
    if (!Array.isArray(content)) return;
    for (const block of content) {
      if (!isRecord(block) || block.type !== 'tool_result' || typeof block.tool_use_id !== 'string') continue;
      this.answered.add(block.tool_use_id);
      const use = this.lastToolUses.find((candidate) => candidate.id === block.tool_use_id);
      if (use && this.toolView(use.name).custom) continue;
      this.events.push({
        type: 'agent.tool_result',
        id: newEventId(),
        tool_use_id: this.eventIdFor(block.tool_use_id),
        content: [{ type: 'text', text: textOf(block.content) }],
        is_error: block.is_error === true,
      });
    }
  }

  /** A session.error for a turn Claude Code ended in error. */
  error(message: string): void {
    this.events.push({
      type: 'session.error',
      id: newEventId(),
      error: { type: 'harness_error', message, retry_status: { type: 'exhausted' } },
    });
  }

  /** The events and usage gathered since the last take. */
  take(): { events: HarnessEvent[]; usage: ModelUsage } {
    const taken = { events: this.events, usage: this.usage };
    this.events = [];
    this.usage = emptyModelUsage();
    return taken;
  }
}
