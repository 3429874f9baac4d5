// Keeps a container's mounted resources equal to the session's: at create/restore, and before every sandboxed tool
// call (so a file added or removed, or a repository token rotated, through /v1/sessions/{id}/resources reaches a
// running sandbox before the agent next touches it). What a container holds is recorded in a root-only marker on its
// /mnt/session tmpfs; this process remembers the last state it synced per container, so an unchanged session costs
// one small query per tool call and no exec.
import { posix } from 'node:path';
import type Docker from 'dockerode';
import type pg from 'pg';
import { getFileContent } from '../../db/repositories/files.ts';
import {
  openRepositoryToken,
  sandboxResources,
  type SandboxResource,
} from '../../db/repositories/repository-resources.ts';
import type { SecretBox } from '../../db/repositories/secret-box.ts';
import type { SandboxOwner } from '../../domain/sandbox.ts';
import type { RepositoryFailure } from '../../domain/session-resources.ts';
import { runProcess } from './docker-stream.ts';
import { RepositoryCloneError, type RepositoryCloner } from './repository-clone.ts';
import { fileMountProblem, removeMountedFile, runAsRoot, sessionMountDir, writeMountedFile } from './session-files.ts';

const markerPath = `${sessionMountDir}/.resources.json`;

/** What a container holds of one resource: the version it applied, and whether a repository arrived. */
interface AppliedResource {
  id: string;
  type: SandboxResource['type'];
  mountPath: string;
  version: string;
  present: boolean;
}

export interface ResourceSyncDeps {
  pool: pg.Pool;
  /** Absent: this host clones no repositories (they fail with repository_clone_error). */
  repositories?: { secretBox: SecretBox; cloner: RepositoryCloner };
  onWarning: (message: string) => void;
}

export class SessionResourceSync {
  private readonly deps: ResourceSyncDeps;
  /** Per container: the session's resource versions it was last brought to. */
  private readonly synced = new Map<string, string>();
  private readonly running = new Map<string, Promise<RepositoryFailure[]>>();

  constructor(deps: ResourceSyncDeps) {
    this.deps = deps;
  }

  /**
   * Brings the container up to the session's resources; returns the repositories that could not be fetched (each
   * reported once per version: a rotated token tries again). `fresh`: the container was just created or restored, so
   * nothing of /mnt/session is there yet. Concurrent calls for one container share one sync; only the first reports.
   */
  async sync(container: Docker.Container, owner: SandboxOwner, fresh: boolean): Promise<RepositoryFailure[]> {
    const pending = this.running.get(container.id);
    if (pending) {
      await pending;
      return [];
    }
    const run = this.syncOnce(container, owner, fresh).finally(() => this.running.delete(container.id));
    this.running.set(container.id, run);
    return run;
  }

  forget(containerId: string): void {
    this.synced.delete(containerId);
  }

  private async syncOnce(container: Docker.Container, owner: SandboxOwner, fresh: boolean) {
    const wanted = await sandboxResources(this.deps.pool, owner.tenantId, owner.sessionId);
    const fingerprint = wanted.map((resource) => `${resource.id}@${resource.version}`).join(',');
    if (!fresh && this.synced.get(container.id) === fingerprint) return [];
    const applied = fresh ? new Map<string, AppliedResource>() : await readMarker(container);
    const failures: RepositoryFailure[] = [];
    const next: AppliedResource[] = [];
    const wantedIds = new Set(wanted.map((resource) => resource.id));
    for (const gone of [...applied.values()].filter((resource) => !wantedIds.has(resource.id))) {
      await this.remove(container, gone);
    }
    for (const resource of wanted) {
      const before = applied.get(resource.id);
      if (before?.version === resource.version) {
        next.push(before);
        continue;
      }
      const present = await this.apply(container, owner, resource, before, failures);
      next.push({
        id: resource.id,
        type: resource.type,
        mountPath: resource.mountPath,
        version: resource.version,
        present,
      });
    }
    // A new container without resources needs no marker: an absent one reads as none applied (one exec fewer at
    // every create).
    if (!fresh || next.length > 0) await writeMarker(container, next);
    this.synced.set(container.id, fingerprint);
    return failures;
  }

  /** Puts one new or changed resource into the container; returns whether it is there now. */
  private async apply(
    container: Docker.Container,
    owner: SandboxOwner,
    resource: SandboxResource,
    before: AppliedResource | undefined,
    failures: RepositoryFailure[],
  ): Promise<boolean> {
    if (resource.type === 'file') {
      const problem = fileMountProblem(resource.mountPath);
      if (problem) {
        this.deps.onWarning(`file ${resource.fileId} not mounted: ${problem}`);
        return false;
      }
      const content = await getFileContent(this.deps.pool, owner.tenantId, resource.fileId ?? '');
      if (!content) return false;
      await writeMountedFile(container, posix.normalize(resource.mountPath), content.data);
      return true;
    }
    // A repository already cloned keeps its tree (and the agent's work) when only its token changed; one restored
    // with /workspace from a snapshot is already there.
    if (before?.present || (await hasContent(container, resource.mountPath))) return true;
    try {
      await this.cloneInto(container, owner, resource);
      return true;
    } catch (error) {
      if (!(error instanceof RepositoryCloneError)) throw error;
      failures.push({ type: error.type, message: error.message, repositoryUrl: resource.url ?? '' });
      return false;
    }
  }

  private async cloneInto(container: Docker.Container, owner: SandboxOwner, resource: SandboxResource) {
    const { pool, repositories } = this.deps;
    if (!repositories)
      throw new RepositoryCloneError('repository_clone_error', 'this sandbox host clones no repositories');
    const { secretBox, cloner } = repositories;
    const token = await openRepositoryToken(pool, secretBox, owner.tenantId, resource.id);
    const tree = await cloner.clone({ url: resource.url ?? '', token, checkout: resource.checkout });
    // As the sandbox user, so the agent owns (and may change) its working copy under /workspace.
    const script = 'rm -rf -- "$1" && mkdir -p -- "$1" && tar -xf - -C "$1" --no-same-owner';
    const result = await runProcess(container, {
      argv: ['bash', '-c', script, 'repository', posix.normalize(resource.mountPath)],
      stdin: tree,
      maxBytes: 4096,
    });
    if (result.exitCode !== 0) {
      throw new RepositoryCloneError(
        'repository_clone_error',
        `the repository could not be written to ${resource.mountPath}: ${result.stderr.toString().trim()}`,
      );
    }
  }

  private async remove(container: Docker.Container, resource: AppliedResource): Promise<void> {
    if (resource.type === 'file') {
      if (resource.present) await removeMountedFile(container, resource.mountPath);
      return;
    }
    if (!resource.present) return;
    await runProcess(container, {
      argv: ['rm', '-rf', '--', posix.normalize(resource.mountPath)],
      maxBytes: 4096,
    });
  }
}

async function hasContent(container: Docker.Container, mountPath: string): Promise<boolean> {
  const result = await runProcess(container, {
    argv: ['bash', '-c', '[ -d "$1" ] && [ -n "$(ls -A -- "$1")" ]', 'exists', posix.normalize(mountPath)],
    maxBytes: 4096,
  });
  return result.exitCode === 0;
}

async function readMarker(container: Docker.Container): Promise<Map<string, AppliedResource>> {
  const result = await runProcess(container, {
    argv: ['bash', '-c', '[ -f "$1" ] && cat -- "$1" || true', 'marker', markerPath],
    user: '0:0',
    maxBytes: 1024 * 1024,
  });
  const text = result.stdout.toString('utf8').trim();
  const entries = text ? (JSON.parse(text) as AppliedResource[]) : [];
  return new Map(entries.map((entry) => [entry.id, entry]));
}

async function writeMarker(container: Docker.Container, resources: AppliedResource[]): Promise<void> {
  await runAsRoot(
    container,
    ['bash', '-c', 'umask 077 && cat > "$1.new" && mv -f -- "$1.new" "$1"', 'marker', markerPath],
    Buffer.from(JSON.stringify(resources)),
  );
}
