// Session resources as the API defines them (SDK resources/beta/sessions/resources.ts): files and GitHub
// repositories mounted into the session's sandbox. The shapes, default mount paths and the repository rules live
// here; the API stores them, the sandbox worker puts them into the container.

export const workspaceMountDir = '/workspace';

/** `checkout` of a github_repository resource: a branch, or a full commit SHA. */
export type RepositoryCheckout = { type: 'branch'; name: string } | { type: 'commit'; sha: string };

/** The API's `repository_*_error` session error types. */
export type RepositoryErrorType =
  | 'repository_authentication_error'
  | 'repository_forbidden_error'
  | 'repository_not_found_error'
  | 'repository_checkout_error'
  | 'repository_clone_error';

/** A repository the sandbox did not receive, reported as a `session.error` (never carries the token). */
export interface RepositoryFailure {
  type: RepositoryErrorType;
  message: string;
  repositoryUrl: string;
}

export const defaultFileMountPath = (fileId: string): string => `/mnt/session/uploads/${fileId}`;

/** The API's default for a repository: `/workspace/<repo-name>` (the URL's last segment without `.git`). */
export function defaultRepositoryMountPath(url: string): string {
  const segments = new URL(url).pathname.split('/').filter((segment) => segment !== '');
  const name = (segments.at(-1) ?? 'repository').replace(/\.git$/, '') || 'repository';
  return `${workspaceMountDir}/${name}`;
}

/** Normalises a path the way POSIX does for `..` and `//` (no I/O; domain code cannot use node:path). */
export function normalizeMountPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** Repositories go under /workspace (the agent's writable, snapshotted volume), never /workspace itself. */
export const isRepositoryMountPath = (path: string): boolean =>
  normalizeMountPath(path).startsWith(`${workspaceMountDir}/`);

/**
 * Why a repository URL is refused before any lookup, or undefined: https/http only, no credentials or query in the
 * URL (the token travels separately), and a host on the operator's allow-list (AGENTS_REPOSITORY_HOSTS).
 */
export function repositoryUrlProblem(url: string, allowedHosts: readonly string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url is not a valid URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'url must be an https URL';
  if (parsed.username || parsed.password) return 'url must not carry credentials; use authorization_token';
  if (parsed.search || parsed.hash) return 'url must not have a query or fragment';
  const host = parsed.hostname.toLowerCase();
  if (!allowedHosts.includes(host)) return `repositories from ${host} are not allowed on this platform`;
  if (parsed.pathname.split('/').filter((segment) => segment !== '').length === 0) return 'url names no repository';
  return undefined;
}
