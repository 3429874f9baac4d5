// Context compaction: when the next model request would pass a share of the model's context window, the older events
// are summarised (by a model call) and later requests carry the summary and the recent events only; the event log
// keeps everything. This file holds the pure parts: the window table, the token estimate, where to cut.
import type { JournaledEvent, SessionEvent } from './events.ts';

/** Context windows (tokens) by model id prefix, longest prefix first; unknown models get the default. */
export const contextWindows: ReadonlyArray<readonly [prefix: string, tokens: number]> = [
  ['claude-sonnet-4', 1_000_000],
  ['claude-', 200_000],
  ['gpt-4.1', 1_000_000],
  ['gpt-4o', 128_000],
  ['gpt-5', 400_000],
  ['o3', 200_000],
  ['o4', 200_000],
];
export const defaultContextWindow = 128_000;

export function contextWindowOf(modelId: string): number {
  const match = [...contextWindows]
    .filter(([prefix]) => modelId.startsWith(prefix))
    .sort((a, b) => b[0].length - a[0].length)[0];
  return match?.[1] ?? defaultContextWindow;
}

/** The usual rough estimate: four characters a token. */
export const estimateTokens = (characters: number): number => Math.ceil(characters / 4);

/** Compactions in a row, with no model answer between them, before the turn stops (compaction_limit_reached_error). */
export const maxCompactionsInARow = 3;

/** Events that open a model message when a kept tail starts with them. */
const opensMessage = new Set<SessionEvent['type']>([
  'user.message',
  'user.define_outcome',
  'system.message',
  'agent.message',
  'agent.tool_use',
  'agent.custom_tool_use',
  'agent.mcp_tool_use',
]);
const closesCallsBefore = new Set<SessionEvent['type']>(['user.message', 'user.define_outcome', 'system.message']);

function resultOf(event: SessionEvent): string | undefined {
  if (event.type === 'agent.tool_result' || event.type === 'user.tool_result') return event.tool_use_id;
  if (event.type === 'user.custom_tool_result') return event.custom_tool_use_id;
  if (event.type === 'agent.mcp_tool_result') return event.mcp_tool_use_id;
  return undefined;
}

/**
 * Where the kept tail starts (an index into `events`): the earliest clean boundary (no tool call open across it) whose
 * tail fits `keepTokens`, else the latest boundary; undefined when there is none past the first event.
 */
export function chooseCut(events: JournaledEvent[], keepTokens: number): number | undefined {
  const boundaries: number[] = [];
  const open = new Set<string>();
  events.forEach(({ event }, index) => {
    if (closesCallsBefore.has(event.type)) open.clear();
    if (index > 0 && open.size === 0 && opensMessage.has(event.type)) boundaries.push(index);
    if (
      event.type === 'agent.tool_use' ||
      event.type === 'agent.custom_tool_use' ||
      event.type === 'agent.mcp_tool_use'
    ) {
      open.add(event.id);
    }
    const answered = resultOf(event);
    if (answered) open.delete(answered);
  });
  if (boundaries.length === 0) return undefined;
  const tail: number[] = new Array<number>(events.length + 1).fill(0);
  for (let index = events.length - 1; index >= 0; index--) {
    tail[index] = (tail[index + 1] ?? 0) + estimateTokens(JSON.stringify(events[index]?.event).length);
  }
  return boundaries.find((index) => (tail[index] ?? 0) <= keepTokens) ?? boundaries.at(-1);
}

export const summariserSystemPrompt = [
  'You compact the context of a long-running agent session. Summarise the conversation you are given so that the',
  'agent can continue the work from the summary alone: the user’s goals and instructions, decisions made, facts and',
  'results learned (file names, commands, values, errors), what is done and what remains. Be complete but terse;',
  'write the summary only.',
].join(' ');
