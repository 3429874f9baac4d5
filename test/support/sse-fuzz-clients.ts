// Clients for fuzzing the SSE stream (test/fuzz/sse.test.ts): a seeded random source, a raw HTTP/1.1 client that
// sends bytes fetch refuses (NUL, raw non-ASCII, any method), and a stream reader that can drop the connection after
// a given number of bytes, mid-frame.
import { connect } from 'node:net';

/** mulberry32: small, seedable, good enough to pick test inputs. */
export function makeRandom(start: number) {
  let state = start >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  return { next, int, pick, chance: (p: number) => next() < p };
}
export type Random = ReturnType<typeof makeRandom>;

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

function bodyText(headers: Map<string, string>, body: Buffer): string {
  const text = body.toString('utf8');
  if (headers.get('transfer-encoding') !== 'chunked') return text;
  return text.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, '').replace(/\r\n$/, '');
}

/**
 * Sends `head` as is and resolves with the answer: the whole body of an error, or only the opening comment of an
 * event stream (then drops the connection). Rejects when no complete answer arrives in time: a hang.
 */
export function rawRequest(port: number, head: Buffer, method: string, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let parsed: { status: number; headers: Map<string, string>; bodyStart: number } | undefined;
    let settled = false;
    const finish = (outcome: Error | RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms (a hang)`)), timeoutMs);
    const answer = () => {
      if (!parsed) return finish(new Error(`the connection ended without an answer: ${buffer.toString('latin1')}`));
      const body = buffer.subarray(parsed.bodyStart);
      finish({ status: parsed.status, headers: parsed.headers, body: bodyText(parsed.headers, body) });
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!parsed) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map(
          lines.slice(1).map((line) => {
            const colon = line.indexOf(':');
            return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
          }),
        );
        parsed = { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1]), headers, bodyStart: end + 4 };
      }
      const body = buffer.subarray(parsed.bodyStart);
      const length = parsed.headers.get('content-length');
      if (method === 'HEAD' || parsed.status === 204 || parsed.status === 304) return answer();
      if (parsed.headers.get('content-type')?.includes('text/event-stream')) {
        if (body.includes(': stream open\n\n')) answer();
        return;
      }
      if (length !== undefined && body.length >= Number(length)) return answer();
      if (parsed.headers.get('transfer-encoding') === 'chunked' && body.includes('0\r\n\r\n')) answer();
    });
    socket.on('error', answer);
    socket.on('close', answer);
    socket.write(head);
  });
}

/** A request head from raw parts; every request asks to close the connection after the answer. */
export function requestHead(method: string, target: Buffer, headers: [string, Buffer][]): Buffer {
  const text = (value: string) => Buffer.from(value, 'utf8');
  const parts = [text(`${method} `), target, text(' HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n')];
  if (['POST', 'PUT', 'PATCH'].includes(method)) parts.push(text('content-length: 0\r\n'));
  for (const [name, value] of headers) parts.push(text(`${name}: `), value, text('\r\n'));
  parts.push(text('\r\n'));
  return Buffer.concat(parts);
}

export interface StreamFrame {
  event: string;
  data: string;
  id?: number;
  /** The frame as sent, for format checks. */
  raw: string;
}

export interface StreamRead {
  /** 0 when the client gave up before the answer's head arrived. */
  status: number;
  frames: StreamFrame[];
  body: string;
  timedOut: boolean;
}

export interface ReadOptions {
  /** Drop the connection after this many bytes; only frames complete within them count. */
  maxBytes?: number;
  /** Drop the connection after this long, head or not. */
  abortAfterMs?: number;
  /** Stop (and drop the connection) once this holds. */
  enough?: (frames: StreamFrame[]) => boolean;
  timeoutMs?: number;
}

/** Opens `url` with fetch and reads SSE frames (comments skipped) until one of the stop conditions. */
export async function readStream(
  url: string,
  headers: Record<string, string>,
  options: ReadOptions = {},
): Promise<StreamRead> {
  const controller = new AbortController();
  const result: StreamRead = { status: 0, frames: [], body: '', timedOut: false };
  const timer = setTimeout(() => {
    result.timedOut = true;
    controller.abort();
  }, options.timeoutMs ?? 15_000);
  const dropTimer =
    options.abortAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), options.abortAfterMs);
  let buffer = Buffer.alloc(0);
  let total = 0;
  try {
    const response = await fetch(url, { headers, signal: controller.signal });
    result.status = response.status;
    if (response.status !== 200) {
      result.body = await response.text();
      return result;
    }
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      let piece = Buffer.from(chunk);
      const cut = options.maxBytes !== undefined && total + piece.length >= options.maxBytes;
      if (cut) piece = piece.subarray(0, (options.maxBytes as number) - total);
      total += piece.length;
      buffer = Buffer.concat([buffer, piece]);
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const raw = buffer.subarray(0, boundary).toString('utf8');
        buffer = buffer.subarray(boundary + 2);
        const frame: Partial<StreamFrame> = { raw };
        for (const line of raw.split('\n')) {
          if (line.startsWith('event: ')) frame.event = line.slice(7);
          else if (line.startsWith('data: ')) frame.data = line.slice(6);
          else if (line.startsWith('id: ')) frame.id = Number(line.slice(4));
        }
        if (frame.event !== undefined) result.frames.push(frame as StreamFrame);
      }
      if (cut || options.enough?.(result.frames)) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    clearTimeout(dropTimer);
    controller.abort();
  }
  return result;
}
