// A real git smart-HTTP server on loopback for repository tests: `git http-backend` (CGI) behind a small node HTTP
// server that demands HTTP Basic auth whose password is the expected token (as GitHub takes a token as
// `x-access-token:<token>`). Repositories are bare repos in a temporary folder, built with real commits.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitHttpServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** Every Authorization header the server saw (to show the token arrived only as a header). */
  authorizations: string[];
  /**
   * A bare repository `<path>.git` with a commit on `main` and one more on each named branch; returns its URL and the
   * commits (`main`, `<branch>`).
   */
  createRepository(
    path: string,
    branches: Record<string, Record<string, string>>,
  ): { url: string; commits: Record<string, string> };
  close(): Promise<void>;
}

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();

export async function startGitHttpServer(options: { token: string }): Promise<GitHttpServer> {
  const root = mkdtempSync(join(tmpdir(), 'git-http-'));
  const authorizations: string[] = [];
  const server = createServer((request, response) => {
    const header = request.headers.authorization ?? '';
    if (header) authorizations.push(header);
    const password = header.startsWith('Basic ')
      ? Buffer.from(header.slice(6), 'base64').toString('utf8').split(':').slice(1).join(':')
      : undefined;
    if (password !== options.token) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end('unauthorized\n');
      return;
    }
    serveCgi(root, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    origin,
    authorizations,
    createRepository(path, branches) {
      const work = mkdtempSync(join(tmpdir(), 'git-work-'));
      const commits: Record<string, string> = {};
      git(work, 'init', '--quiet', '--initial-branch=main');
      for (const [branch, files] of Object.entries(branches)) {
        if (branch !== 'main') git(work, 'checkout', '--quiet', '-b', branch, 'main');
        for (const [name, content] of Object.entries(files)) writeFileSync(join(work, name), content);
        git(work, 'add', '.');
        git(work, 'commit', '--quiet', '-m', `${branch}: ${Object.keys(files).join(', ')}`);
        commits[branch] = git(work, 'rev-parse', 'HEAD');
      }
      git(work, 'checkout', '--quiet', 'main');
      const bare = join(root, `${path}.git`);
      git(root, 'clone', '--quiet', '--bare', work, bare);
      rmSync(work, { recursive: true, force: true });
      return { url: `${origin}/${path}.git`, commits };
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Runs `git http-backend` for one request and relays its CGI answer. */
function serveCgi(root: string, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const child = spawn('git', ['http-backend'], {
    env: {
      ...gitEnv,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REQUEST_METHOD: request.method ?? 'GET',
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: request.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(request.headers['git-protocol'] ?? ''),
      REMOTE_USER: 'x-access-token',
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  request.pipe(child.stdin);
  let buffered = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      response.write(chunk);
      return;
    }
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of buffered.subarray(0, end).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    response.writeHead(status, headers);
    headersSent = true;
    response.write(buffered.subarray(end + 4));
  });
  child.once('close', () => {
    if (!headersSent) response.writeHead(500);
    response.end();
  });
}
