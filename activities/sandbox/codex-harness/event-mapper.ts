// Codex's notifications (thread items of a turn) as session events, in the native loop's order. Codex says nothing
// when a model request starts and gives its usage (`thread/tokenUsage/updated`, `last`; a restatement with an unchanged total is not a request's) only
// after the tools the response asked for have run, so a request is read from its items: its first item opens the span
// (`span.model_request_start`); its first command — the model's output is complete when Codex starts running it —
// or its usage, for a reply without tools, closes it (`span.model_request_end`), followed by the reply's text as one
// `agent.message`. A command is `agent.tool_use` (`bash`, the command as Codex's model wrote it) just before its
// `agent.tool_result`; a command Codex asked approval for is journaled by the workflow with its confirmation, so only
// its result is mapped here. A custom tool's call (a dynamic tool's, `dynamicToolCall`) closes the span as a command
// does; it is the workflow's `agent.custom_tool_use`, its result the client's event: nothing more is mapped for it.
// Usage arriving after the span was closed is written onto the span while its events are
// still here, and always counted in the step's usage.
import { randomUUID } from 'node:crypto';
import type { HarnessEvent } from '../../../domain/contracts/claude-harness.ts';
import { makeId } from '../../../domain/ids.ts';
import { addModelUsage, emptyModelUsage, type ModelUsage } from '../../../domain/model.ts';

type Loose = Record<string, unknown>;
const isRecord = (value: unknown): value is Loose => typeof value === 'object' && value !== null;
const newEventId = () => makeId('event', randomUUID());
const textField = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Items that are the model's output (a reasoning, a reply, a command, a patch, a tool call). */
const modelItems = new Set(['agentMessage', 'reasoning', 'commandExecution', 'fileChange', 'dynamicToolCall']);

/** The command as the model wrote it: Codex runs it as `/bin/bash -lc '<command>'`. */
export function commandOf(item: Loose): string {
  const command = textField(item.command);
  const wrapped = /^\S*bash -lc '([\s\S]*)'$/.exec(command);
  return wrapped ? wrapped[1]!.replaceAll(`'\\''`, `'`) : command;
}

function usageOf(wire: unknown): ModelUsage {
  if (!isRecord(wire)) return emptyModelUsage();
  const count = (key: string) => (typeof wire[key] === 'number' ? wire[key] : 0);
  const cached = count('cachedInputTokens');
  return {
    inputTokens: count('inputTokens') - cached,
    outputTokens: count('outputTokens'),
    cacheReadInputTokens: cached,
    cacheCreationInputTokens: count('cacheWriteInputTokens'),
  };
}

const wireUsage = (usage: ModelUsage) => ({
  input_tokens: usage.inputTokens,
  output_tokens: usage.outputTokens,
  cache_creation_input_tokens: usage.cacheCreationInputTokens,
  cache_read_input_tokens: usage.cacheReadInputTokens,
});

type SpanEnd = Extract<HarnessEvent, { type: 'span.model_request_end' }>;

export class CodexEventMapper {
  private events: HarnessEvent[] = [];
  private usage = emptyModelUsage();
  /** The request whose items are arriving: its span start and its reply's text so far. */
  private open: { startId: string; texts: string[] } | undefined;
  /** A request closed before its usage came (its tools are running). */
  private awaitingUsage: SpanEnd | undefined;
  private readonly eventIds = new Map<string, string>();
  /** Commands the workflow journals (their approval was asked). */
  private readonly asked = new Set<string>();
  /** The thread's total tokens as last reported. */
  private lastTotal: number | undefined;
  private readonly model: string;

  constructor(model: string) {
    this.model = model;
  }

  /** The session event id of a Codex item (drawn at first sight). */
  eventIdFor(itemId: string): string {
    let id = this.eventIds.get(itemId);
    if (!id) {
      id = newEventId();
      this.eventIds.set(itemId, id);
    }
    return id;
  }

  /** A command whose approval Codex asked for: the workflow journals its `agent.tool_use`. */
  markAsked(itemId: string): void {
    this.asked.add(itemId);
    this.closeRequest(false);
  }

  get inRequest(): boolean {
    return this.open !== undefined;
  }

  push(method: string, params: Loose): void {
    const item = isRecord(params.item) ? params.item : undefined;
    if (method === 'item/started' && item && modelItems.has(textField(item.type))) this.itemStarted(item);
    else if (method === 'item/completed' && item) this.itemCompleted(item);
    else if (method === 'thread/tokenUsage/updated' && isRecord(params.tokenUsage)) {
      // Codex restates the thread's usage when a turn is interrupted: only a grown total is a request's.
      const total = isRecord(params.tokenUsage.total) ? params.tokenUsage.total.totalTokens : undefined;
      if (typeof total === 'number' && total === this.lastTotal) return;
      if (typeof total === 'number') this.lastTotal = total;
      this.usageArrived(usageOf(params.tokenUsage.last));
    }
  }

  private itemStarted(item: Loose): void {
    if (!this.open && !this.awaitingUsage) {
      const startId = newEventId();
      this.events.push({
        type: 'span.model_request_start',
        id: startId,
        model: this.model,
        summary: `${this.model} (codex)`,
      });
      this.open = { startId, texts: [] };
    }
    // Codex starts running a command or a custom tool's call once the model's output is complete.
    if (item.type === 'commandExecution' || item.type === 'dynamicToolCall') this.closeRequest(false);
  }

  private itemCompleted(item: Loose): void {
    if (item.type === 'agentMessage') {
      const text = textField(item.text);
      if (text === '') return;
      if (this.open) this.open.texts.push(text);
      else this.events.push({ type: 'agent.message', id: newEventId(), content: [{ type: 'text', text }] });
    } else if (item.type === 'commandExecution' && typeof item.id === 'string') {
      const id = this.eventIdFor(item.id);
      if (!this.asked.has(item.id)) {
        const input = { command: commandOf(item) };
        this.events.push({ type: 'agent.tool_use', id, name: 'bash', input, evaluated_permission: 'allow' });
      }
      const declined = item.status === 'declined';
      const output = declined ? 'The user denied this command.' : textField(item.aggregatedOutput);
      const exitCode = typeof item.exitCode === 'number' ? item.exitCode : undefined;
      this.events.push({
        type: 'agent.tool_result',
        id: newEventId(),
        tool_use_id: id,
        content: [{ type: 'text', text: exitCode && exitCode !== 0 ? `${output}\n(exit code ${exitCode})` : output }],
        is_error: declined || item.status === 'failed' || (exitCode !== undefined && exitCode !== 0),
      });
    }
  }

  private usageArrived(usage: ModelUsage): void {
    this.usage = addModelUsage(this.usage, usage);
    if (this.open) {
      this.closeRequest(false, usage);
    } else if (this.awaitingUsage) {
      // Still among this step's events: the span gets its request's usage (else the session's usage has it).
      if (this.events.includes(this.awaitingUsage)) this.awaitingUsage.model_usage = wireUsage(usage);
    }
    this.awaitingUsage = undefined;
  }

  /** Ends the open request: its span (an error when cut short), then its reply's text. */
  closeRequest(isError: boolean, usage?: ModelUsage): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const end: SpanEnd = {
      type: 'span.model_request_end',
      id: newEventId(),
      model_request_start_id: open.startId,
      is_error: isError,
      model_usage: wireUsage(usage ?? emptyModelUsage()),
    };
    this.events.push(end);
    if (!isError && !usage) this.awaitingUsage = end;
    if (isError || open.texts.length === 0) return;
    this.events.push({
      type: 'agent.message',
      id: newEventId(),
      content: [{ type: 'text', text: open.texts.join('\n\n') }],
    });
  }

  /** An interrupt with no request open still cut one short: Codex is always asking its model while a turn runs. */
  interruptedRequest(): void {
    if (this.open) return this.closeRequest(true);
    if (this.awaitingUsage) return; // its tools were running, not a request
    const startId = newEventId();
    this.events.push({
      type: 'span.model_request_start',
      id: startId,
      model: this.model,
      summary: `${this.model} (codex)`,
    });
    this.open = { startId, texts: [] };
    this.closeRequest(true);
  }

  /** A session.error for a turn Codex ended in failure. */
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
