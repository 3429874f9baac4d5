// Cloning a github_repository resource on the sandbox host, outside the sandbox's network policy: git runs here, in a
// temporary folder, and the container only ever receives the checked-out tree (a tar). The token reaches git as an
// Authorization header through GIT_CONFIG_* environment variables — never in argv, the URL, .git/config, a credential
// helper or the container. git is pinned to the addresses the URL guard has just allowed (http.curloptResolve) and
// follows no redirect; no system or user git configuration applies.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformError, ErrorCode } from '../../domain/errors.ts';
import {
  repositoryUrlProblem,
  type RepositoryCheckout,
  type RepositoryErrorType,
} from '../../domain/session-resources.ts';
import { UrlRefusedError, type UrlGuard } from '../../net/url-guard.ts';

/** A repository that could not be fetched: the API's `repository_*_error` type and a message free of the token. */
export class RepositoryCloneError extends PlatformError {
  readonly type: RepositoryErrorType;

  constructor(type: RepositoryErrorType, message: string) {
    super(ErrorCode.invalidInput, message, { retryable: false });
    this.type = type;
  }
}

export interface RepositoryClonerOptions {
  guard: UrlGuard;
  /** AGENTS_REPOSITORY_HOSTS. */
  allowedHosts: readonly string[];
  /** Largest tree (as a tar) handed to a container. */
  maxBytes?: number;
  /** A clone still running after this is killed (a repository_clone_error). */
  timeoutMs?: number;
  /** Called every few seconds while git runs (the activity heartbeat). */
  onProgress?: () => void;
}

export interface CloneRequest {
  url: string;
  token: string | undefined;
  checkout: RepositoryCheckout | null;
}

const defaultMaxBytes = 512 * 1024 * 1024;
const defaultTimeoutMs = 5 * 60_000;

export class RepositoryCloner {
  private readonly options: RepositoryClonerOptions;

  constructor(options: RepositoryClonerOptions) {
    this.options = options;
  }

  /** Clones and checks out the repository; returns its tree (with .git, without credentials) as a tar. */
  async clone(request: CloneRequest): Promise<Buffer> {
    const pin = await this.pinnedAddress(request.url);
    const dir = await mkdtemp(join(tmpdir(), 'repository-'));
    const redact = redactor(request.token);
    try {
      const work = join(dir, 'tree');
      const git = (args: string[]) =>
        this.run('git', [...gitOptions(request.url, pin), ...args], { cwd: dir, env: gitEnv(dir, request.token) });
      const branch = request.checkout?.type === 'branch' ? ['--branch', request.checkout.name] : [];
      const noCheckout = request.checkout?.type === 'commit' ? ['--no-checkout'] : [];
      const cloned = await git(['clone', '--quiet', ...branch, ...noCheckout, '--', request.url, work]);
      if (cloned.code !== 0) throw classify(redact(cloned.stderr), request);
      if (request.checkout?.type === 'commit') {
        const checkedOut = await git(['-C', work, 'checkout', '--quiet', '--detach', request.checkout.sha]);
        if (checkedOut.code !== 0) {
          throw new RepositoryCloneError(
            'repository_checkout_error',
            `commit ${request.checkout.sha} could not be checked out: ${firstLine(redact(checkedOut.stderr))}`,
          );
        }
      }
      const maxBytes = this.options.maxBytes ?? defaultMaxBytes;
      const archive = await this.run('tar', ['-C', work, '-cf', '-', '.'], { cwd: dir, env: {}, maxBytes });
      if (archive.truncated) {
        throw new RepositoryCloneError('repository_clone_error', `the repository is larger than ${maxBytes} bytes`);
      }
      if (archive.code !== 0) throw new Error(`packing the clone failed: ${archive.stderr}`);
      return archive.stdout;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** host:port:address for git's resolver, from the guard's own lookup; undefined for an IP literal. */
  private async pinnedAddress(url: string): Promise<string | undefined> {
    const problem = repositoryUrlProblem(url, this.options.allowedHosts);
    if (problem) throw new RepositoryCloneError('repository_clone_error', problem);
    let addresses: string[];
    try {
      addresses = await this.options.guard.checkedAddresses(url);
    } catch (error) {
      if (error instanceof UrlRefusedError) throw new RepositoryCloneError('repository_clone_error', error.message);
      throw error;
    }
    const parsed = new URL(url);
    if (parsed.hostname.startsWith('[') || /^[\d.]+$/.test(parsed.hostname)) return undefined;
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
    const address = addresses[0]!;
    return `${parsed.hostname}:${port}:${address.includes(':') ? `[${address}]` : address}`;
  }

  private run(
    command: string,
    args: string[],
    options: { cwd: string; env: Record<string, string>; maxBytes?: number },
  ): Promise<{ code: number; stdout: Buffer; stderr: string; truncated: boolean }> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      let size = 0;
      let truncated = false;
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > (options.maxBytes ?? Infinity)) {
          truncated = true;
          child.kill('SIGKILL');
        } else stdout.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 16_384) stderr += chunk.toString('utf8');
      });
      const progress = setInterval(() => this.options.onProgress?.(), 5_000);
      const deadline = setTimeout(() => child.kill('SIGKILL'), this.options.timeoutMs ?? defaultTimeoutMs);
      child.once('error', (error) => {
        clearInterval(progress);
        clearTimeout(deadline);
        reject(error);
      });
      child.once('close', (code, signal) => {
        clearInterval(progress);
        clearTimeout(deadline);
        const killed = signal !== null && !truncated;
        resolve({
          code: code ?? -1,
          stdout: Buffer.concat(stdout),
          stderr: killed ? `${stderr}\n(stopped after the clone deadline)` : stderr,
          truncated,
        });
      });
    });
  }
}

function gitOptions(url: string, pin: string | undefined): string[] {
  const scheme = new URL(url).protocol.replace(':', '');
  return [
    ...['-c', 'credential.helper=', '-c', 'http.followRedirects=false'],
    ...['-c', 'protocol.allow=never', '-c', `protocol.${scheme}.allow=always`],
    ...['-c', 'core.hooksPath=/dev/null', '-c', 'advice.detachedHead=false'],
    ...(pin ? ['-c', `http.curloptResolve=${pin}`] : []),
  ];
}

/** No system or user configuration, no prompts; the token only as an extra header of this process's git calls. */
function gitEnv(home: string, token: string | undefined): Record<string, string> {
  const env: Record<string, string> = {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: '0',
  };
  if (token) {
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    Object.assign(env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    });
  }
  return env;
}

/** Removes the token (and its Basic form) from text that may be shown. */
function redactor(token: string | undefined): (text: string) => string {
  if (!token) return (text) => text;
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return (text) => text.split(token).join('[redacted]').split(basic).join('[redacted]');
}

const firstLine = (text: string): string =>
  text
    .split('\n')
    .map((line) => line.replace(/^(fatal|error): /, '').trim())
    .find((line) => line !== '') ?? 'git failed';

/** git's clone errors as the API's repository error types. */
function classify(stderr: string, request: CloneRequest): RepositoryCloneError {
  const message = firstLine(stderr);
  const host = new URL(request.url).host;
  if (/Remote branch .* not found/i.test(stderr)) {
    const name = request.checkout?.type === 'branch' ? request.checkout.name : '';
    return new RepositoryCloneError('repository_checkout_error', `branch ${name} does not exist: ${message}`);
  }
  if (/Authentication failed|could not read (Username|Password)|\b401\b/i.test(stderr)) {
    return new RepositoryCloneError(
      'repository_authentication_error',
      `${host} did not accept the repository's authorization token: ${message}`,
    );
  }
  if (/\b403\b|forbidden/i.test(stderr)) {
    return new RepositoryCloneError(
      'repository_forbidden_error',
      `${host} refused access to the repository: ${message}`,
    );
  }
  if (/\b404\b|not found|does not appear to be a git repository/i.test(stderr)) {
    return new RepositoryCloneError('repository_not_found_error', `the repository was not found: ${message}`);
  }
  return new RepositoryCloneError('repository_clone_error', `the repository could not be cloned: ${message}`);
}
