// github_repository resources as the API accepts them: the URL on the operator's host allow-list
// (AGENTS_REPOSITORY_HOSTS) and through the URL guard, the mount path under /workspace (the API's default
// /workspace/<repo-name> when none), the token kept only sealed (db/repositories/repository-resources.ts).
import { randomUUID } from 'node:crypto';
import type { RepositoryResourceInput } from '../db/repositories/repository-resources.ts';
import type { SecretBox } from '../db/repositories/secret-box.ts';
import { makeId } from '../domain/ids.ts';
import {
  defaultRepositoryMountPath,
  isRepositoryMountPath,
  normalizeMountPath,
  repositoryUrlProblem,
  type RepositoryCheckout,
} from '../domain/session-resources.ts';
import type { UrlGuard } from '../net/url-guard.ts';
import { invalidRequest } from './errors.ts';
import { assertTenantUrl } from './tenant-urls.ts';

export interface RepositoryResourceRequest {
  type: 'github_repository';
  url: string;
  authorization_token?: string;
  checkout?: RepositoryCheckout | null;
  mount_path?: string | null;
}

export interface RepositoryResourceDeps {
  secretBox: SecretBox;
  urlGuard: UrlGuard;
  allowedHosts: readonly string[];
}

/** Checks a repository resource (400 when refused) and gives it its id and mount path. */
export async function prepareRepositoryResource(
  deps: RepositoryResourceDeps,
  resource: RepositoryResourceRequest,
  index: number,
): Promise<RepositoryResourceInput> {
  const field = `resources[${index}]`;
  const problem = repositoryUrlProblem(resource.url, deps.allowedHosts);
  if (problem) throw invalidRequest(`${field}.url: ${problem}`);
  await assertTenantUrl(deps.urlGuard, resource.url, `${field}.url`);
  const mountPath = normalizeMountPath(resource.mount_path ?? defaultRepositoryMountPath(resource.url));
  if (!isRepositoryMountPath(mountPath)) {
    throw invalidRequest(`${field}.mount_path: a repository is mounted under /workspace (got ${mountPath})`);
  }
  return {
    id: makeId('sessionResource', randomUUID()),
    url: resource.url,
    checkout: resource.checkout ?? null,
    mountPath,
    authorizationToken: resource.authorization_token,
  };
}
