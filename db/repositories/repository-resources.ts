// github_repository session resources: written with their authorization token sealed (secret-box.ts, associated data
// the resource id), the token rotated in place, opened only by the sandbox worker that clones; and the session's
// resources as the sandbox needs them to bring a running container up to date.
import type pg from 'pg';
import type { RepositoryCheckout } from '../../domain/session-resources.ts';
import type { Queryable } from '../queryable.ts';
import { resourceColumns, toResource, type ResourceRow, type SessionResourceRecord } from './files.ts';
import type { SecretBox } from './secret-box.ts';

export interface RepositoryResourceInput {
  /** Decided by the caller: the sealed token is bound to it. */
  id: string;
  url: string;
  checkout: RepositoryCheckout | null;
  mountPath: string;
  authorizationToken: string | undefined;
}

export async function addRepositoryResource(
  db: Queryable,
  secretBox: SecretBox,
  tenantId: string,
  sessionId: string,
  resource: RepositoryResourceInput,
): Promise<SessionResourceRecord> {
  const sealed = resource.authorizationToken ? secretBox.seal(resource.authorizationToken, resource.id) : null;
  const { rows } = await db.query<ResourceRow>(
    `insert into session_resources (id, tenant_id, session_id, type, url, checkout, mount_path,
       authorization_token_sealed) values ($1, $2, $3, 'github_repository', $4, $5, $6, $7)
     returning ${resourceColumns}`,
    [resource.id, tenantId, sessionId, resource.url, resource.checkout, resource.mountPath, sealed],
  );
  return toResource(rows[0] as ResourceRow);
}

/**
 * Replaces a repository resource's token (the SDK's `resources.update`); `updated_at` moves, which tells the sandbox
 * to try a clone that failed again. Undefined when the session has no such resource.
 */
export async function rotateRepositoryToken(
  pool: pg.Pool,
  secretBox: SecretBox,
  target: { tenantId: string; sessionId: string; resourceId: string },
  authorizationToken: string,
): Promise<SessionResourceRecord | undefined> {
  const { rows } = await pool.query<ResourceRow>(
    `update session_resources set authorization_token_sealed = $4, updated_at = clock_timestamp()
     where tenant_id = $1 and session_id = $2 and id = $3 and type = 'github_repository'
     returning ${resourceColumns}`,
    [target.tenantId, target.sessionId, target.resourceId, secretBox.seal(authorizationToken, target.resourceId)],
  );
  return rows[0] ? toResource(rows[0]) : undefined;
}

/** A resource as the sandbox tracks it: `version` changes whenever what should be in the container changes. */
export interface SandboxResource {
  id: string;
  type: 'file' | 'github_repository';
  mountPath: string;
  version: string;
  fileId: string | null;
  url: string | null;
  checkout: RepositoryCheckout | null;
}

/**
 * The session's files and repositories without contents or tokens: cheap enough to read before every sandboxed tool
 * call. (Memory stores have their own mount and sync: activities/sandbox/session-memory.ts.)
 */
export async function sandboxResources(pool: pg.Pool, tenantId: string, sessionId: string): Promise<SandboxResource[]> {
  // updated_at as text keeps its microseconds: two changes within a millisecond are still two versions.
  const { rows } = await pool.query<ResourceRow & { version: string }>(
    `select ${resourceColumns}, updated_at::text as version from session_resources
     where tenant_id = $1 and session_id = $2 and type in ('file', 'github_repository') order by position`,
    [tenantId, sessionId],
  );
  return rows.map((row) => ({
    id: row.id,
    type: row.type === 'github_repository' ? 'github_repository' : 'file',
    mountPath: row.mount_path ?? '',
    version: row.version,
    fileId: row.file_id,
    url: row.url,
    checkout: row.checkout,
  }));
}

/** Opens a repository resource's token; undefined when it has none (a public repository). */
export async function openRepositoryToken(
  pool: pg.Pool,
  secretBox: SecretBox,
  tenantId: string,
  resourceId: string,
): Promise<string | undefined> {
  const { rows } = await pool.query<{ authorization_token_sealed: Buffer | null }>(
    'select authorization_token_sealed from session_resources where tenant_id = $1 and id = $2',
    [tenantId, resourceId],
  );
  const sealed = rows[0]?.authorization_token_sealed;
  return sealed ? secretBox.open(sealed, resourceId) : undefined;
}
