// Gathers streamed blocks into the final content of a ModelResponse, and reports deltas as they arrive.
import type { AssistantContentBlock, ModelStreamPart } from '../../domain/model.ts';

type Block =
  | { kind: 'text'; index: number; text: string }
  | { kind: 'thinking'; index: number; text: string }
  | { kind: 'tool_use'; index: number; id: string; name: string; argumentsJson: string };

/** Key under which the invalid JSON a model produced for a tool's input is kept, so the tool can report it. */
export const invalidToolInputKey = '_invalidJson';

/** Parses a tool call's streamed arguments; invalid JSON is kept (not thrown) so the model can read the tool's error. */
export function parseToolInput(argumentsJson: string): Record<string, unknown> {
  if (argumentsJson.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(argumentsJson);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { [invalidToolInputKey]: argumentsJson };
}

export class ContentAccumulator {
  // Keyed by the provider's own block address (Anthropic's index, an output index, a tool call index…).
  private readonly blocks = new Map<string, Block>();

  private readonly onPart: ((part: ModelStreamPart) => void) | undefined;

  constructor(onPart?: (part: ModelStreamPart) => void) {
    this.onPart = onPart;
  }

  appendText(key: string, text: string): void {
    const block = this.ensure(key, () => ({ kind: 'text', index: this.blocks.size, text: '' }));
    if (block.kind !== 'text' || text === '') return;
    block.text += text;
    this.onPart?.({ type: 'text_delta', index: block.index, text });
  }

  appendThinking(key: string, text: string): void {
    const block = this.ensure(key, () => ({ kind: 'thinking', index: this.blocks.size, text: '' }));
    if (block.kind !== 'thinking' || text === '') return;
    block.text += text;
    this.onPart?.({ type: 'thinking_delta', index: block.index, text });
  }

  startToolUse(key: string, id: string, name: string): void {
    const block = this.ensure(key, () => ({ kind: 'tool_use', index: this.blocks.size, id, name, argumentsJson: '' }));
    if (block.kind !== 'tool_use') return;
    if (id) block.id = id;
    if (name) block.name = name;
  }

  appendToolArguments(key: string, argumentsJson: string): void {
    const block = this.ensure(key, () => ({
      kind: 'tool_use',
      index: this.blocks.size,
      id: '',
      name: '',
      argumentsJson: '',
    }));
    if (block.kind === 'tool_use') block.argumentsJson += argumentsJson;
  }

  /** The provider's final word on a tool call's arguments, when it sends one. */
  setToolArguments(key: string, argumentsJson: string): void {
    const block = this.blocks.get(key);
    if (block?.kind === 'tool_use') block.argumentsJson = argumentsJson;
  }

  hasThinking(): boolean {
    return [...this.blocks.values()].some((block) => block.kind === 'thinking');
  }

  hasToolUse(): boolean {
    return [...this.blocks.values()].some((block) => block.kind === 'tool_use');
  }

  /** Text and tool calls in stream order; thinking is live-only (the loop does not send it back). */
  content(): AssistantContentBlock[] {
    const content: AssistantContentBlock[] = [];
    for (const block of this.blocks.values()) {
      if (block.kind === 'text' && block.text !== '') content.push({ type: 'text', text: block.text });
      if (block.kind === 'tool_use') {
        content.push({ type: 'tool_use', id: block.id, name: block.name, input: parseToolInput(block.argumentsJson) });
      }
    }
    return content;
  }

  private ensure(key: string, create: () => Block): Block {
    let block = this.blocks.get(key);
    if (!block) {
      block = create();
      this.blocks.set(key, block);
    }
    return block;
  }
}
