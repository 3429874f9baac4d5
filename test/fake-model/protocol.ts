// What each wire protocol of the fake model server provides; the server does the rest (routing, faults, pacing).
import type { DemoInput } from './demo.ts';
import type { FakeProtocolName, ResolvedTurn } from './script.ts';
import type { StreamFrame } from './sse.ts';

export interface FakeProtocol {
  name: FakeProtocolName;
  /** Request paths, with and without the `/v1` prefix. */
  paths: string[];
  /** Prefix for generated tool call ids. */
  toolIdPrefix: string;
  /** Header that carries the request id, as the provider names it. */
  requestIdHeader: string;
  demoInput(body: Record<string, unknown>): DemoInput;
  errorBody(status: number, message: string): unknown;
  responseJson(turn: ResolvedTurn, model: string): unknown;
  streamFrames(turn: ResolvedTurn, model: string, body: Record<string, unknown>): StreamFrame[];
  malformedFrame: string;
  /** The provider's in-stream error for a failure that would have had HTTP `status`. */
  streamErrorFrame(status: number, message: string): string;
}

export const lastOf = <T>(items: readonly T[]): T | undefined => items[items.length - 1];

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
