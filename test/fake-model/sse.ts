// Server-sent events for the fake model: formatting, and playing a turn's frames with its delays, hold and fault.
import type { ServerResponse } from 'node:http';
import type { FakeHolds } from './holds.ts';
import type { ResolvedTurn } from './script.ts';

/** One SSE message; `content` marks frames that carry model output (where delays, holds and faults apply). */
export interface StreamFrame {
  data: string;
  content: boolean;
}

export const sseFrame = (event: string | undefined, payload: unknown, content = false): StreamFrame => ({
  data: `${event ? `event: ${event}\n` : ''}data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`,
  content,
});

export const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

async function write(response: ServerResponse, data: string): Promise<void> {
  if (response.destroyed) return;
  await new Promise<void>((resolve) => response.write(data, () => resolve()));
}

async function pause(milliseconds: number, signal: AbortSignal): Promise<void> {
  if (milliseconds <= 0 || signal.aborted) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(finish, milliseconds);
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

export interface PlaybackOptions {
  turn: ResolvedTurn;
  /** What a `malformed_chunk` fault sends: an SSE message whose data is not JSON, in the protocol's framing. */
  malformedFrame: string;
  /** What a `stream_error` fault sends. */
  streamErrorFrame: (status: number, message: string) => string;
  holds: FakeHolds;
  /** Aborts when the client disconnects. */
  signal: AbortSignal;
}

/** Writes the frames with the turn's pacing; faults strike right after the first content frame. */
export async function playFrames(
  response: ServerResponse,
  frames: StreamFrame[],
  options: PlaybackOptions,
): Promise<void> {
  const { turn, signal } = options;
  let contentFramesSent = 0;
  for (const frame of frames) {
    if (signal.aborted) return;
    if (frame.content) await pause(contentFramesSent === 0 ? turn.firstTokenDelayMs : turn.chunkDelayMs, signal);
    if (signal.aborted) return;
    await write(response, frame.data);
    if (!frame.content || ++contentFramesSent > 1) continue;
    if (turn.fault?.type === 'end_mid_stream') {
      response.end();
      return;
    }
    if (turn.fault?.type === 'reset_mid_stream') {
      response.socket?.destroy();
      return;
    }
    if (turn.fault?.type === 'malformed_chunk' || turn.fault?.type === 'stream_error') {
      const fault = turn.fault;
      const message =
        fault.type === 'stream_error' ? (fault.message ?? `fake model: scripted stream error ${fault.status}`) : '';
      await write(
        response,
        fault.type === 'stream_error' ? options.streamErrorFrame(fault.status, message) : options.malformedFrame,
      );
      response.end();
      return;
    }
    if (turn.holdAfterFirstChunk !== undefined) await options.holds.wait(turn.holdAfterFirstChunk, signal);
  }
  if (!signal.aborted) response.end();
}
