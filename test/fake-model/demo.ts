// The fake model's behaviour for a model name with no script: enough of an agent to drive the no-API-key dev demo.
import type { FakeTurn } from './script.ts';

/** The last thing the user side said, as each protocol reports it. */
export type DemoInput = { kind: 'tool_result'; text: string } | { kind: 'text'; text: string };

const runPrefix = 'run: ';

export function demoTurn(input: DemoInput): FakeTurn {
  const streaming = { chunkSize: 6, chunkDelayMs: 10 };
  if (input.kind === 'tool_result') return { text: `The tool returned: ${input.text.slice(0, 200)}`, ...streaming };
  if (input.text.startsWith(runPrefix)) {
    return { toolCalls: [{ name: 'bash', input: { command: input.text.slice(runPrefix.length) } }], ...streaming };
  }
  return { text: `You said: ${input.text}`, ...streaming };
}

/** Text of a content value that is either a string or a list of parts carrying `text`. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .join('');
}
