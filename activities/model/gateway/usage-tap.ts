// Reads the token usage out of an Anthropic Messages response as it passes through the gateway, without holding the
// stream back: a JSON body's `usage`, or a stream's `message_start` usage updated by each `message_delta`'s (the
// last one carries the final output tokens).
import { emptyModelUsage, type ModelUsage } from '../../../domain/model.ts';

type WireUsage = Partial<
  Record<'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens', number | null>
>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

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

  constructor(contentType: string | null) {
    this.streaming = (contentType ?? '').includes('text/event-stream');
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
      if (isRecord(body) && isRecord(body.usage)) this.usage = overlay(emptyModelUsage(), body.usage);
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
