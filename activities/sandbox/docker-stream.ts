// Running one process in a container through `docker exec` and collecting its output. Docker multiplexes stdout and
// stderr on one connection (8-byte frame headers) when no TTY is attached; we parse the frames ourselves so output can
// be capped while it arrives instead of buffered whole.
import type Docker from 'dockerode';
import { ErrorCode, PlatformError } from '../../domain/errors.ts';

export interface ProcessOptions {
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** `uid:gid`; the sandbox user unless given (the platform's own file placement runs as root, without capabilities). */
  user?: string;
  /** Sent on stdin, then stdin is closed. */
  stdin?: Buffer;
  /** Bytes kept per stream; the rest is read and dropped. */
  maxBytes: number;
  /** Gives up waiting after this long (the process keeps running in the container). */
  deadlineMs?: number;
  /** Called every few seconds while waiting, so long operations can heartbeat. */
  onProgress?: () => void;
}

export interface ProcessResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
}

export const sandboxUser = '1000:1000';
const progressIntervalMs = 5_000;

/** Thrown when the deadline passes before the process ends; the process itself is left to the caller. */
export class ProcessDeadlineError extends PlatformError {
  constructor(message: string) {
    super(ErrorCode.deadlineExceeded, message, { retryable: true });
  }
}

export async function runProcess(container: Docker.Container, options: ProcessOptions): Promise<ProcessResult> {
  const exec = await container.exec({
    Cmd: options.argv,
    Env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
    WorkingDir: options.cwd ?? '/workspace',
    User: options.user ?? sandboxUser,
    AttachStdin: options.stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = await exec.start({ hijack: options.stdin !== undefined, stdin: options.stdin !== undefined });
  const stdout = new CappedBuffer(options.maxBytes);
  const stderr = new CappedBuffer(options.maxBytes);
  const demuxer = new FrameDemuxer((channel, payload) => (channel === 2 ? stderr : stdout).push(payload));

  const ended = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => demuxer.push(chunk));
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', reject);
  });
  if (options.stdin !== undefined) stream.end(options.stdin);

  const progress = options.onProgress ? setInterval(options.onProgress, progressIntervalMs) : undefined;
  let deadline: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ended,
      new Promise<never>((_, reject) => {
        if (options.deadlineMs === undefined) return;
        deadline = setTimeout(
          () => reject(new ProcessDeadlineError(`no answer from the sandbox within ${options.deadlineMs} ms`)),
          options.deadlineMs,
        );
      }),
    ]);
  } finally {
    clearInterval(progress);
    clearTimeout(deadline);
    stream.destroy();
  }
  const info = await exec.inspect();
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: stdout.bytes(),
    stderr: stderr.bytes(),
    stdoutTruncated: stdout.truncated,
  };
}

class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  push(payload: Buffer): void {
    const room = this.maxBytes - this.size;
    if (payload.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = payload.length > room ? payload.subarray(0, room) : payload;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Splits Docker's multiplexed stream: each frame is [stream type, 0, 0, 0, size (uint32 BE)] + payload. */
export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly onFrame: (channel: number, payload: Buffer) => void;

  constructor(onFrame: (channel: number, payload: Buffer) => void) {
    this.onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) return;
      this.onFrame(this.pending[0] ?? 1, this.pending.subarray(8, 8 + size));
      this.pending = this.pending.subarray(8 + size);
    }
  }
}
