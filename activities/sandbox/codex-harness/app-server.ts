// `codex app-server` as a process inside the session's container, spoken to over its stdio: JSON-RPC 2.0 messages,
// one JSON object a line (Codex leaves out the `jsonrpc` member). A `docker exec` with a hijacked stdin carries it;
// the process writes its pid to a file first, so a later worker can end one an earlier (killed) worker left running.
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { FrameDemuxer, runProcess, sandboxUser } from '../docker-stream.ts';
import { codexExecutable, codexPidFile } from './runtime.ts';

/** A message the server sent that is not an answer: a notification (no id) or a request of its own (an id). */
export interface ServerMessage {
  method: string;
  id?: number | string;
  params: Record<string, unknown>;
}

export class AppServerError extends Error {
  readonly code: number;

  constructor(method: string, code: number, message: string) {
    super(`codex app-server ${method}: ${message}`);
    this.code = code;
  }
}

interface Waiting {
  method: string;
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

export interface AppServerOptions {
  container: Docker.Container;
  /** `-c key=value` overrides: the model provider (the gateway), the model. */
  config: string[];
  env: Record<string, string>;
  onMessage: (message: ServerMessage) => void;
  onExit: () => void;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export class AppServerProcess {
  private readonly stdin = new PassThrough();
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private exited = false;
  private stream: NodeJS.ReadWriteStream | undefined;
  private readonly options: AppServerOptions;

  private constructor(options: AppServerOptions) {
    this.options = options;
  }

  /** Starts the process; resolves once its pipes are attached (not yet initialized: see `request('initialize')`). */
  static async start(options: AppServerOptions): Promise<AppServerProcess> {
    const server = new AppServerProcess(options);
    await server.attach();
    return server;
  }

  private async attach(): Promise<void> {
    const { container, config, env } = this.options;
    const exec = await container.exec({
      Cmd: [
        'sh',
        '-c',
        `echo $$ > ${codexPidFile}; exec "$@"`,
        'codex-harness',
        codexExecutable,
        'app-server',
        ...config.flatMap((entry) => ['-c', entry]),
      ],
      Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      WorkingDir: '/workspace',
      User: sandboxUser,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = await exec.start({ hijack: true, stdin: true });
    this.stream = stream;
    const stdout = new PassThrough();
    const demuxer = new FrameDemuxer((channel, payload) => {
      if (channel === 1) stdout.write(payload); // stderr: Codex's own log lines, not the protocol
    });
    stream.on('data', (chunk: Buffer) => demuxer.push(chunk));
    this.stdin.on('data', (chunk: Buffer) => stream.write(chunk));
    createInterface({ input: stdout }).on('line', (line) => this.receive(line));
    const finish = () => {
      if (this.exited) return;
      this.exited = true;
      stdout.end();
      for (const [, waiting] of this.waiting) {
        waiting.reject(new AppServerError(waiting.method, -1, 'the process ended'));
      }
      this.waiting.clear();
      this.options.onExit();
    };
    stream.once('end', finish);
    stream.once('close', finish);
    stream.once('error', finish);
  }

  get isExited(): boolean {
    return this.exited;
  }

  private receive(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (!isRecord(message)) return;
    const { id, method } = message;
    if (typeof method === 'string') {
      const params = isRecord(message.params) ? message.params : {};
      this.options.onMessage({ method, params, ...(typeof id === 'number' || typeof id === 'string' ? { id } : {}) });
      return;
    }
    if (typeof id !== 'number') return;
    const waiting = this.waiting.get(id);
    this.waiting.delete(id);
    if (!waiting) return;
    if (isRecord(message.error)) {
      const { code, message: text } = message.error;
      const detail = typeof text === 'string' ? text : 'failed';
      waiting.reject(new AppServerError(waiting.method, typeof code === 'number' ? code : -1, detail));
    } else waiting.resolve(isRecord(message.result) ? message.result : {});
  }

  private write(message: Record<string, unknown>): void {
    if (!this.exited) this.stdin.write(`${JSON.stringify(message)}\n`);
  }

  request(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new AppServerError(method, -1, 'the process ended'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { method, resolve, reject });
      this.write({ id, method, params });
    });
  }

  notify(method: string, params?: Record<string, unknown>): void {
    this.write(params ? { method, params } : { method });
  }

  /** Answers a request the server made (an approval, a tool call). */
  respond(id: number | string, result: Record<string, unknown>): void {
    this.write({ id, result });
  }

  respondError(id: number | string, code: number, message: string): void {
    this.write({ id, error: { code, message } });
  }

  close(): void {
    this.stdin.end();
    this.stream?.end();
    void killCodexProcess(this.options.container).catch(() => undefined);
  }
}

/** Ends the container's Codex process, if one runs (the pid file says which). */
export async function killCodexProcess(container: Docker.Container): Promise<void> {
  await runProcess(container, {
    argv: ['sh', '-c', `test -f ${codexPidFile} && kill -KILL "$(cat ${codexPidFile})" 2>/dev/null; true`],
    maxBytes: 1024,
  });
}
