// Small readings shared by the trace reducers and the sandbox spans: ISO times to durations, previews of text.
import type { UserContent } from '../events.ts';

export const timeOf = (at: string | null): number | null => {
  if (at === null) return null;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? null : ms;
};

/** Milliseconds from `start` to `end` (never negative); null when either is unknown. */
export const between = (start: string | null, end: string | null): number | null => {
  const from = timeOf(start);
  const to = timeOf(end);
  return from === null || to === null ? null : Math.max(0, to - from);
};

export const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

export const textOf = (content: readonly UserContent[] | undefined): string =>
  (content ?? []).map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('');
