// Scripted turns for the fake model server: what a test asks the far end of the model wire to answer, one turn per
// request, selected by the request's `model` field so concurrent tests never share a script.

export type FakeProtocolName = 'anthropic' | 'openai-chat' | 'openai-responses';

export type FakeFault =
  | { type: 'http'; status: number; retryAfterSeconds?: number; retryAfterMs?: number; message?: string }
  | { type: 'reset_mid_stream' }
  /** Destroys the connection before any response byte (a reset the client sees as a connection error). */
  | { type: 'reset_before_response' }
  /** Ends the response cleanly after the first chunk, without the protocol's closing events. */
  | { type: 'end_mid_stream' }
  /** An error event inside the 200 stream after the first chunk (Anthropic `error`, Responses `response.failed`). */
  | { type: 'stream_error'; status: number; message?: string }
  | { type: 'malformed_chunk' };

export interface FakeToolCall {
  name: string;
  input: Record<string, unknown>;
  id?: string;
}

export interface FakeTurn {
  /** Assistant text, streamed in chunks. */
  text?: string;
  /** Anthropic thinking block; `reasoning_content` on Chat Completions, a reasoning summary on Responses. */
  thinking?: string;
  toolCalls?: FakeToolCall[];
  /** Default: `tool_use` when there are tool calls, else `end_turn`. */
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal';
  /** A refusal's `stop_details` (Anthropic protocol); default for a refusal: no category, no explanation. */
  refusal?: { category?: string | null; explanation?: string | null };
  /** Defaults are computed from the request's and the answer's lengths. */
  usage?: {
    inputTokens?: number;
    outputTokens?: number;
    cacheReadInputTokens?: number;
    cacheCreationInputTokens?: number;
  };
  chunkSize?: number;
  chunkDelayMs?: number;
  firstTokenDelayMs?: number;
  /** Keeps the stream open after the first content chunk until `release(key)` or the client disconnects. */
  holdAfterFirstChunk?: string;
  fault?: FakeFault;
}

export interface RecordedRequest {
  protocol: FakeProtocolName;
  path: string;
  body: Record<string, unknown>;
  /** Lower-cased header names; credentials (authorization, x-api-key, api-key) are left out. */
  headers: Record<string, string>;
}

/** A turn with every default filled in, ready for a protocol to render. */
export interface ResolvedTurn {
  text: string;
  thinking: string;
  toolCalls: { id: string; name: string; input: Record<string, unknown>; argumentsJson: string }[];
  stopReason: 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal';
  /** Anthropic's `stop_details` (null unless refused). */
  stopDetails: { type: 'refusal'; category: string | null; explanation: string | null } | null;
  usage: { inputTokens: number; outputTokens: number; cacheReadInputTokens: number; cacheCreationInputTokens: number };
  chunkSize: number;
  chunkDelayMs: number;
  firstTokenDelayMs: number;
  holdAfterFirstChunk: string | undefined;
  fault: FakeFault | undefined;
}

/** Whether a request is the platform's context summariser's (compaction), by its system prompt. */
export const isSummariserRequest = (body: Record<string, unknown>): boolean =>
  JSON.stringify(body).includes('You compact the context of a long-running agent session');

/** A turn chosen by looking at the request (undefined: the script answers). */
export type FakeResponder = (body: Record<string, unknown>) => FakeTurn | undefined;

export type NextTurn = { kind: 'scripted'; turn: FakeTurn } | { kind: 'exhausted' } | { kind: 'unscripted' };

const credentialHeaders = new Set(['authorization', 'x-api-key', 'api-key']);

/** Per-model scripts, the requests each model received and the faults it served. */
export class FakeScripts {
  private readonly scripts = new Map<string, FakeTurn[]>();
  private readonly received = new Map<string, RecordedRequest[]>();
  private readonly served = new Map<string, FakeFault[]>();
  private readonly responders = new Map<string, FakeResponder>();

  setScript(model: string, turns: FakeTurn[]): void {
    this.scripts.set(model, [...turns]);
  }

  /** Answers by the request's content, before the script (a grader's or summariser's request, say). */
  setResponder(model: string, responder: FakeResponder): void {
    this.responders.set(model, responder);
  }

  next(model: string, body: Record<string, unknown> = {}): NextTurn {
    const answered = this.responders.get(model)?.(body);
    if (answered) return { kind: 'scripted', turn: answered };
    const turns = this.scripts.get(model);
    if (!turns) return { kind: 'unscripted' };
    const turn = turns.shift();
    return turn ? { kind: 'scripted', turn } : { kind: 'exhausted' };
  }

  record(model: string, request: RecordedRequest): void {
    const list = this.received.get(model) ?? [];
    list.push(request);
    this.received.set(model, list);
  }

  requests(model: string): RecordedRequest[] {
    return [...(this.received.get(model) ?? [])];
  }

  recordFault(model: string, fault: FakeFault): void {
    this.served.set(model, [...(this.served.get(model) ?? []), fault]);
  }

  faults(model: string): FakeFault[] {
    return [...(this.served.get(model) ?? [])];
  }
}

export function withoutCredentials(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || credentialHeaders.has(name.toLowerCase())) continue;
    kept[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

const estimateTokens = (characters: number): number => Math.max(1, Math.ceil(characters / 4));

let generatedIds = 0;
/** Ids unique within the process, shaped like the provider's (`toolu_…`, `call_…`). */
export const fakeId = (prefix: string): string => `${prefix}${Date.now().toString(36)}${(++generatedIds).toString(36)}`;

/** Fills a turn's defaults; a fault turn with nothing to stream gets some text, so the fault lands mid-stream. */
export function resolveTurn(turn: FakeTurn, requestBody: Record<string, unknown>, toolIdPrefix: string): ResolvedTurn {
  const streamsSomething = Boolean(turn.text || turn.thinking || turn.toolCalls?.length);
  const faultBeforeResponse = turn.fault?.type === 'http' || turn.fault?.type === 'reset_before_response';
  const faultNeedsContent = turn.fault !== undefined && !faultBeforeResponse && !streamsSomething;
  const text = turn.text ?? (faultNeedsContent ? 'partial answer that never finishes' : '');
  const thinking = turn.thinking ?? '';
  const toolCalls = (turn.toolCalls ?? []).map((call) => ({
    id: call.id ?? fakeId(toolIdPrefix),
    name: call.name,
    input: call.input,
    argumentsJson: JSON.stringify(call.input),
  }));
  const transcriptSize = JSON.stringify(requestBody.messages ?? requestBody.input ?? '').length;
  const answerSize =
    text.length + thinking.length + toolCalls.reduce((sum, call) => sum + call.argumentsJson.length, 0);
  return {
    text,
    thinking,
    toolCalls,
    stopReason: turn.stopReason ?? (toolCalls.length > 0 ? 'tool_use' : 'end_turn'),
    stopDetails:
      turn.stopReason === 'refusal'
        ? { type: 'refusal', category: turn.refusal?.category ?? null, explanation: turn.refusal?.explanation ?? null }
        : null,
    usage: {
      inputTokens: turn.usage?.inputTokens ?? estimateTokens(transcriptSize),
      outputTokens: turn.usage?.outputTokens ?? estimateTokens(answerSize),
      cacheReadInputTokens: turn.usage?.cacheReadInputTokens ?? 0,
      cacheCreationInputTokens: turn.usage?.cacheCreationInputTokens ?? 0,
    },
    chunkSize: Math.max(1, turn.chunkSize ?? 8),
    chunkDelayMs: turn.chunkDelayMs ?? 0,
    firstTokenDelayMs: turn.firstTokenDelayMs ?? 0,
    holdAfterFirstChunk: turn.holdAfterFirstChunk,
    fault: turn.fault,
  };
}

export function chunkText(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let start = 0; start < text.length; start += size) chunks.push(text.slice(start, start + size));
  return chunks;
}
