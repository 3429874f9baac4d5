// The LangGraph peer for bench/scenarios/peer-langgraph.bench.ts: its virtualenv (scripts/setup/langgraph-peer.sh, run
// on demand), `langgraph dev` serving bench/peer/langgraph/agent.py on the in-memory runtime, and a client of its HTTP
// API (threads, `runs/stream`) that records when each streamed frame arrives, as our SDK driver does.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess, waitUntil, type ManagedProcess } from '../../scripts/services/process.ts';
import { openSseStream, type SseFrame } from '../support/sse-client.ts';
import type { TurnMarks } from './platform-driver.ts';

const root = join(import.meta.dirname, '..', '..');

/** Builds (or finds) the peer's virtualenv; the `langgraph` CLI's path, or undefined with the reason printed. */
export function ensurePeerVenv(): string | undefined {
  if (process.env.AGENTS_SKIP_PEER) return undefined;
  const setup = spawnSync('bash', [join(root, 'scripts', 'setup', 'langgraph-peer.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (setup.status !== 0) {
    console.log('LangGraph peer unavailable (scripts/setup/langgraph-peer.sh failed); the peer scenario is skipped');
    return undefined;
  }
  return setup.stdout.trim().split('\n').at(-1);
}

export interface PeerServer {
  url: string;
  pid: number;
  /** langgraph-api's version, from its /info. */
  version: string;
  stop(): Promise<void>;
}

/**
 * `langgraph dev` without reload or browser, in a scratch working folder (its dev persistence writes `.langgraph_api/`
 * there), with `jobsPerWorker` runs allowed at once (the default, 10, would queue a 50-run burst).
 */
export async function startPeerServer(cli: string, modelBaseUrl: string, jobsPerWorker: number): Promise<PeerServer> {
  const port = await freePort();
  const workDir = mkdtempSync(join(tmpdir(), 'langgraph-peer-'));
  // bench/peer/langgraph/langgraph.json with absolute paths: the server resolves them from its working folder.
  const graphDir = join(root, 'bench', 'peer', 'langgraph');
  const config = join(workDir, 'langgraph.json');
  writeFileSync(config, JSON.stringify({ dependencies: [graphDir], graphs: { agent: `${graphDir}/agent.py:graph` } }));
  const server: ManagedProcess = startProcess(
    'langgraph',
    cli,
    [
      'dev',
      ...['--config', config],
      ...['--port', String(port), '--host', '127.0.0.1'],
      ...['--n-jobs-per-worker', String(jobsPerWorker)],
      ...['--no-browser', '--no-reload', '--server-log-level', 'WARNING'],
    ],
    {
      cwd: workDir,
      logFile: join(workDir, 'server.log'),
      env: {
        ...process.env,
        PEER_MODEL_BASE_URL: `${modelBaseUrl}/v1`,
        LANGGRAPH_CLI_NO_ANALYTICS: '1',
        LANGSMITH_TRACING: 'false',
        PYTHONDONTWRITEBYTECODE: '1',
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('langgraph dev', async () => (await fetch(`${url}/ok`)).ok, {
    timeoutMs: 120_000,
    process: server,
  });
  const info = (await (await fetch(`${url}/info`)).json()) as { version?: string };
  return {
    url,
    pid: server.child.pid!,
    version: info.version ?? 'unknown',
    async stop() {
      await server.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

export async function createThread(server: PeerServer): Promise<string> {
  const response = await fetch(`${server.url}/threads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (!response.ok) throw new Error(`POST /threads: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { thread_id: string }).thread_id;
}

interface MessageChunk {
  type?: string;
  content?: unknown;
}

/**
 * One run on a thread through `POST /threads/:id/runs/stream` (stream modes `messages-tuple` for tokens, `updates`
 * for node results), from the request to the stream's end; a tool result is the `tools` node's `updates` frame.
 */
export async function streamRun(
  server: PeerServer,
  threadId: string,
  text: string,
  configurable: Record<string, string>,
): Promise<TurnMarks> {
  const marks: TurnMarks = { started: performance.now(), toolResults: [], ended: NaN, answer: '' };
  const onFrame = (frame: SseFrame) => {
    if (frame.event === 'metadata') marks.accepted ??= frame.receivedAt;
    else if (frame.event === 'messages' && marks.firstToken === undefined) {
      const [chunk] = JSON.parse(frame.data) as [MessageChunk];
      if (chunk.type === 'AIMessageChunk' && typeof chunk.content === 'string' && chunk.content !== '') {
        marks.firstToken = frame.receivedAt;
      }
    } else if (frame.event === 'updates') {
      const update = JSON.parse(frame.data) as Record<string, { messages?: { content?: unknown }[] }>;
      if (update.tools) marks.toolResults.push(frame.receivedAt);
      const content = update.model?.messages?.at(-1)?.content;
      if (typeof content === 'string') marks.answer = content;
      if (typeof content === 'string' && content !== '' && marks.firstToken === undefined) {
        marks.firstToken = frame.receivedAt;
        marks.noDelta = true;
      }
    } else if (frame.event === 'error') {
      marks.error = frame.data;
    }
  };
  const stream = openSseStream(`${server.url}/threads/${threadId}/runs/stream`, {}, onFrame, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      assistant_id: 'agent',
      input: { messages: [{ role: 'user', content: text }] },
      stream_mode: ['messages-tuple', 'updates'],
      config: { configurable },
    }),
  });
  await stream.finished;
  marks.ended = performance.now();
  return marks;
}
