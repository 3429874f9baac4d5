// Reads the token usage out of a response as it passes through the gateway, without holding the stream back.
// Anthropic Messages: a JSON body's `usage`, or a stream's `message_start` usage updated by each `message_delta`'s
// (the last one carries the final output tokens). OpenAI Responses: the body's `usage`, or the `usage` of the
// stream's closing `response.completed` / `response.incomplete`; its input count includes the cached tokens, which
// are taken out (our inputTokens count uncached input, as the model activities' adapters do).
import { emptyModelUsage, type ModelUsage } from '../../../domain/model.ts';

type WireUsage = Partial<
  Record<'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens', number | null>
>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An OpenAI Responses `usage` as ours. */
function responsesUsage(wire: Record<string, unknown>): ModelUsage {
  const details = isRecord(wire.input_tokens_details) ? wire.input_tokens_details : {};
  const cached = typeof details.cached_tokens === 'number' ? details.cached_tokens : 0;
  const input = typeof wire.input_tokens === 'number' ? wire.input_tokens : 0;
  const output = typeof wire.output_tokens === 'number' ? wire.output_tokens : 0;
  return {
    inputTokens: input - cached,
    outputTokens: output,
    cacheReadInputTokens: cached,
    cacheCreationInputTokens: 0,
  };
}

/** Overlays the counts the wire usage names on `usage` (a delta restates the totals it carries). */
function overlay(usage: ModelUsage, wire: WireUsage): ModelUsage {
  return {
    inputTokens: wire.input_tokens ?? usage.inputTokens,
    outputTokens: wire.output_tokens ?? usage.outputTokens,
    cacheReadInputTokens: wire.cache_read_input_tokens ?? usage.cacheReadInputTokens,
    cacheCreationInputTokens: wire.cache_creation_input_tokens ?? usage.cacheCreationInputTokens,
  };
}

export class UsageTap {
  private readonly streaming: boolean;
  private readonly decoder = new TextDecoder();
  private buffered = '';
  private usage: ModelUsage | undefined;

  private readonly protocol: 'anthropic' | 'openai-responses';

  constructor(contentType: string | null, protocol: 'anthropic' | 'openai-responses' = 'anthropic') {
    this.streaming = (contentType ?? '').includes('text/event-stream');
    this.protocol = protocol;
  }

  push(chunk: Uint8Array): void {
    this.buffered += this.decoder.decode(chunk, { stream: true });
    if (!this.streaming) return;
    let end = this.buffered.indexOf('\n\n');
    while (end >= 0) {
      this.readFrame(this.buffered.slice(0, end));
      this.buffered = this.buffered.slice(end + 2);
      end = this.buffered.indexOf('\n\n');
    }
  }

  /** The usage the response reported, or undefined when it reported none (an error, a cut stream). */
  finish(): ModelUsage | undefined {
    if (this.streaming) {
      if (this.buffered.trim() !== '') this.readFrame(this.buffered);
    } else {
      const body = parse(this.buffered);
      if (isRecord(body) && isRecord(body.usage)) {
        this.usage =
          this.protocol === 'anthropic' ? overlay(emptyModelUsage(), body.usage) : responsesUsage(body.usage);
      }
    }
    this.buffered = '';
    return this.usage;
  }

  private readFrame(frame: string): void {
    const data = frame
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    const event = parse(data);
    if (!isRecord(event)) return;
    if (this.protocol === 'openai-responses') {
      const closing = event.type === 'response.completed' || event.type === 'response.incomplete';
      if (closing && isRecord(event.response) && isRecord(event.response.usage)) {
        this.usage = responsesUsage(event.response.usage);
      }
      return;
    }
    if (event.type === 'message_start' && isRecord(event.message) && isRecord(event.message.usage)) {
      this.usage = overlay(emptyModelUsage(), event.message.usage);
    } else if (event.type === 'message_delta' && isRecord(event.usage)) {
      this.usage = overlay(this.usage ?? emptyModelUsage(), event.usage);
    }
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
