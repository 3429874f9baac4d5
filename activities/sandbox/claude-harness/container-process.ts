// Claude Code as a process inside the session's container: the Claude Agent SDK's `spawnClaudeCodeProcess` hook
// answered with a `docker exec` whose stdin/stdout are the SDK's pipes. The process writes its pid to a file first,
// so a later worker can end a process an earlier (killed) worker left running, and kill() reaches it by pid.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { SpawnedProcess, SpawnOptions } from '@anthropic-ai/claude-agent-sdk';
import type Docker from 'dockerode';
import { FrameDemuxer, sandboxUser } from '../docker-stream.ts';
import { claudePidFile } from './runtime.ts';

/** The command line inside the container: record the pid, then become Claude Code. */
const launcher = (command: string, args: string[]) => [
  'sh',
  '-c',
  `echo $$ > ${claudePidFile}; exec "$@"`,
  'claude-harness',
  command,
  ...args,
];

class ContainerProcess extends EventEmitter implements SpawnedProcess {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  killed = false;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private readonly container: Docker.Container;

  constructor(container: Docker.Container) {
    super();
    this.container = container;
  }

  async start(options: SpawnOptions, command: string): Promise<void> {
    const env = Object.entries(options.env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]));
    const exec = await this.container.exec({
      Cmd: launcher(command, options.args),
      Env: env,
      WorkingDir: options.cwd ?? '/workspace',
      User: sandboxUser,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = await exec.start({ hijack: true, stdin: true });
    const demuxer = new FrameDemuxer((channel, payload) => (channel === 2 ? this.stderr : this.stdout).write(payload));
    stream.on('data', (chunk: Buffer) => demuxer.push(chunk));
    this.stdin.on('data', (chunk: Buffer) => stream.write(chunk));
    this.stdin.on('end', () => stream.end());
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      this.stdout.end();
      this.stderr.end();
      exec.inspect().then(
        (info) => this.exited(info.ExitCode ?? 1),
        () => this.exited(1),
      );
    };
    stream.once('end', finish);
    stream.once('close', finish);
    stream.once('error', (error: Error) => this.emit('error', error));
  }

  private exited(code: number): void {
    this.exitCode = code;
    this.emit('exit', code, this.killed ? 'SIGTERM' : null);
  }

  kill(signal: NodeJS.Signals): boolean {
    this.killed = true;
    void killClaudeProcess(this.container, signal === 'SIGKILL' ? 'KILL' : 'TERM').catch(() => undefined);
    return true;
  }
}

/** Spawns `command` (the in-container path of Claude Code) inside `container` for the SDK. */
export function spawnInContainer(container: Docker.Container, command: string, options: SpawnOptions): SpawnedProcess {
  const spawned = new ContainerProcess(container);
  spawned.start(options, command).catch((error: unknown) => {
    spawned.emit('error', error instanceof Error ? error : new Error(String(error)));
    spawned.emit('exit', 1, null);
  });
  return spawned;
}

/** Ends the Claude Code process of the container, if one runs (the pid file says which). */
export async function killClaudeProcess(container: Docker.Container, signal: 'TERM' | 'KILL'): Promise<void> {
  const exec = await container.exec({
    Cmd: ['sh', '-c', `test -f ${claudePidFile} && kill -${signal} "$(cat ${claudePidFile})" 2>/dev/null; true`],
    User: sandboxUser,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({});
  await new Promise<void>((resolve) => {
    stream.on('data', () => undefined);
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}
