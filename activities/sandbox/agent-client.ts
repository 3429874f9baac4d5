// The worker's side of the in-sandbox exec agent (scripts/sandbox-image/sandbox-agent): one Unix-socket connection
// per request, newline-delimited JSON. The agent greets first; only then is the request sent, so a worker that gives up
// waiting for the greeting (a paused or starved container, an agent that is not there) can fall back to `docker exec`
// knowing the agent never read the request and will run nothing.
import { connect } from 'node:net';
import { ProcessDeadlineError, type ProcessOptions, type ProcessResult } from './docker-stream.ts';

/** The agent did not greet: nothing was sent, so the caller may run the request another way (docker exec). */
export class AgentUnavailableError extends Error {
  override name = 'AgentUnavailableError';
}

/** The agent's final frame (`o` output frames before it are collected into `output`). */
export interface AgentAnswer {
  done?: {
    exitCode: number;
    timedOut?: boolean;
    backgroundStopped?: boolean;
    truncated?: boolean;
    /** exec: the kept tail (base64); the head came as output frames. */
    tail?: string;
    /** run: stdout and stderr (base64). */
    stdout?: string;
    stderr?: string;
  };
  absent?: true;
  interrupted?: true;
  error?: string;
}

export interface AgentCallOptions {
  /** How long to wait for the greeting before falling back. */
  helloTimeoutMs: number;
  /** Gives up waiting after this long (the command keeps running in the container, as with docker exec). */
  deadlineMs?: number;
  onProgress?: () => void;
  /** Output as the agent streams it (exec: the head of the output, up to its cap). */
  onOutput?: (chunk: Buffer) => void;
  /** Resolves at the greeting and closes without sending the request (a liveness check). */
  helloOnly?: boolean;
}

const progressIntervalMs = 5_000;

export function callAgent(
  socketPath: string,
  request: Record<string, unknown>,
  options: AgentCallOptions,
): Promise<AgentAnswer & { output: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const output: Buffer[] = [];
    let greeted = false;
    let settled = false;
    let pending = '';
    const timers: NodeJS.Timeout[] = [];
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      timers.forEach((timer) => clearTimeout(timer));
      clearInterval(progress);
      socket.destroy();
      outcome();
    };
    const unavailable = (why: string) =>
      settle(() => reject(new AgentUnavailableError(`sandbox agent at ${socketPath}: ${why}`)));
    const progress = options.onProgress ? setInterval(options.onProgress, progressIntervalMs) : undefined;
    timers.push(setTimeout(() => !greeted && unavailable('no greeting'), options.helloTimeoutMs));
    if (options.deadlineMs !== undefined) {
      const deadlineMs = options.deadlineMs;
      timers.push(
        setTimeout(
          () => settle(() => reject(new ProcessDeadlineError(`no answer from the sandbox within ${deadlineMs} ms`))),
          deadlineMs,
        ),
      );
    }

    const onFrame = (frame: AgentAnswer & { hello?: number; o?: string }) => {
      if (!greeted) {
        if (frame.hello !== 1) return unavailable('unexpected greeting');
        greeted = true;
        if (options.helloOnly) return settle(() => resolve({ output: Buffer.alloc(0) }));
        socket.write(`${JSON.stringify(request)}\n`);
        return;
      }
      if (frame.o !== undefined) {
        const chunk = Buffer.from(frame.o, 'base64');
        output.push(chunk);
        options.onOutput?.(chunk);
        return;
      }
      settle(() => resolve({ ...frame, output: Buffer.concat(output) }));
    };

    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      pending += text;
      let newline = pending.indexOf('\n');
      while (newline !== -1 && !settled) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          onFrame(JSON.parse(line) as AgentAnswer);
        } catch (error) {
          settle(() => reject(new Error(`unreadable sandbox agent frame: ${String(error)}`)));
        }
        newline = pending.indexOf('\n');
      }
    });
    socket.on('error', (error) =>
      greeted
        ? settle(() => reject(new Error(`sandbox agent connection failed: ${error.message}`)))
        : unavailable(error.message),
    );
    socket.on('close', () =>
      greeted
        ? settle(() => reject(new Error('sandbox agent closed the connection before answering')))
        : unavailable('closed before greeting'),
    );
  });
}

/**
 * Whether an agent greets on this socket within the timeout: a live container's agent answers in well under a
 * millisecond, a stopped one's socket refuses the connection. Sends no request, so the agent runs nothing.
 */
export function agentGreets(socketPath: string, timeoutMs: number): Promise<boolean> {
  return callAgent(socketPath, {}, { helloTimeoutMs: timeoutMs, helloOnly: true }).then(
    () => true,
    () => false,
  );
}

/** runProcess through the agent (as the sandbox user only: the agent cannot switch users). */
export async function runThroughAgent(
  socketPath: string,
  options: ProcessOptions,
  helloTimeoutMs: number,
): Promise<ProcessResult> {
  const answer = await callAgent(
    socketPath,
    {
      op: 'run',
      argv: options.argv,
      env: options.env ?? {},
      cwd: options.cwd ?? '/workspace',
      maxBytes: options.maxBytes,
      ...(options.stdin !== undefined ? { stdin: options.stdin.toString('base64') } : {}),
    },
    { helloTimeoutMs, deadlineMs: options.deadlineMs, onProgress: options.onProgress },
  );
  if (!answer.done) throw new Error(`sandbox agent failed: ${answer.error ?? 'no result'}`);
  return {
    exitCode: answer.done.exitCode,
    stdout: Buffer.from(answer.done.stdout ?? '', 'base64'),
    stderr: Buffer.from(answer.done.stderr ?? '', 'base64'),
    stdoutTruncated: answer.done.truncated === true,
  };
}
