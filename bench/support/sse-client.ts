// A raw SSE client for the benchmarks: hands every frame to a listener the moment it is parsed, with its arrival time.
export interface SseFrame {
  event: string;
  data: string;
  id?: number;
  receivedAt: number;
}

/** GET by default; `init` for a stream that answers a POST (LangGraph's `runs/stream`). */
export function openSseStream(
  url: string,
  headers: Record<string, string>,
  onFrame: (frame: SseFrame) => void,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const controller = new AbortController();
  const opened = fetch(url, {
    method: init.method,
    body: init.body,
    headers: { ...headers, ...init.headers },
    signal: controller.signal,
  });
  const done = (async () => {
    const response = await opened;
    if (response.status !== 200) throw new Error(`stream answered ${response.status}: ${await response.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        const receivedAt = performance.now();
        buffer = (buffer + decoder.decode(chunk, { stream: true })).replaceAll('\r\n', '\n');
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const frame: Partial<SseFrame> = { receivedAt };
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) frame.event = line.slice(7);
            else if (line.startsWith('data: ')) frame.data = line.slice(6);
            else if (line.startsWith('id: ')) frame.id = Number(line.slice(4));
          }
          if (frame.event) onFrame(frame as SseFrame);
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return {
    opened,
    /** Settles when the server ends the stream (or it is closed); rejects on a non-200 answer. */
    finished: done,
    close: async () => {
      controller.abort();
      await done.catch(() => undefined);
    },
  };
}
