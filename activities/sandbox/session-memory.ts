// Memory stores in and out of a session's sandbox. At create/restore each attached store is written under its mount
// path (/mnt/memory/<slug>, a tmpfs outside /workspace, so snapshots never hold memory): read_write stores writable by
// the agent, read_only ones not. At every sync (each turn's end with the workspace snapshot, and when the sandbox is
// removed) the files of each read_write store are compared with what the mount gave the sandbox (see
// db/repositories/session-memory-mounts.ts); every change the agent made becomes a memory version written by the
// session. A memory someone else changed since the mount is not overwritten silently: the session's content becomes a
// further version on top (both are in the history), and a file the agent deleted goes only if nobody changed it.
import type Docker from 'dockerode';
import type pg from 'pg';
import tar from 'tar-stream';
import { memoriesOfStore, sha256Hex, syncMemoryDelete, syncMemoryWrite } from '../../db/repositories/memories.ts';
import {
  advanceMountBase,
  dropMountBase,
  mountBases,
  resetMountBases,
  sessionMemoryStores,
  type MountedStore,
} from '../../db/repositories/session-memory-mounts.ts';
import { memoryContentProblem, memoryMountRoot, memoryPathProblem } from '../../domain/memory.ts';
import type { SandboxOwner } from '../../domain/sandbox.ts';
import { runProcess, sandboxUser } from './docker-stream.ts';
import { regularFiles } from './session-files.ts';

const rootUser = '0:0';
/** Largest store folder read back at once. */
const maxStoreBytes = 64 * 1024 * 1024;

export interface MemorySyncReport {
  written: number;
  deleted: number;
  /** Writes recorded on top of a memory that changed since the mount (both versions kept). */
  conflicts: string[];
  /** Files that cannot be memories (too large, not UTF-8, a bad path) and deletions that were not applied. */
  skipped: string[];
}

/** Writes every attached store's memories into the container and records what each path was given. */
export async function mountSessionMemory(pool: pg.Pool, container: Docker.Container, owner: SandboxOwner) {
  for (const store of await sessionMemoryStores(pool, owner.tenantId, owner.sessionId)) {
    if (!store.mountPath.startsWith(`${memoryMountRoot}/`)) continue;
    const memories = await memoriesOfStore(pool, store.memoryStoreId);
    const pack = tar.pack();
    for (const memory of memories) pack.entry({ name: `.${memory.path}`, mode: 0o644 }, memory.content);
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    // Root owns the files; the modes decide: the agent (uid 1000) may change a read_write store, only read the other.
    const modes = store.access === 'read_write' ? 'a=rwX' : 'a=rX';
    const result = await runProcess(container, {
      argv: [
        'bash',
        '-c',
        'mkdir -p -- "$1" && tar -x --no-same-owner -C "$1" && chmod -R "$2" -- "$1"',
        'mount',
        store.mountPath,
        modes,
      ],
      user: rootUser,
      maxBytes: 4096,
      stdin: Buffer.concat(chunks),
    });
    if (result.exitCode !== 0) throw new Error(`mounting ${store.mountPath}: ${result.stderr.toString().trim()}`);
    // Bases of read_only stores too: a redaction finds through them the sandboxes that still hold the content.
    await resetMountBases(pool, owner, store.memoryStoreId, memories);
  }
}

/** Writes the agent's changes to every read_write store back as memory versions by the session. */
export async function syncSessionMemory(
  pool: pg.Pool,
  container: Docker.Container,
  owner: SandboxOwner,
): Promise<MemorySyncReport> {
  const report: MemorySyncReport = { written: 0, deleted: 0, conflicts: [], skipped: [] };
  const stores = await sessionMemoryStores(pool, owner.tenantId, owner.sessionId);
  for (const store of stores.filter((candidate) => candidate.access === 'read_write')) {
    await syncStore(pool, container, owner, store, report);
  }
  return report;
}

/** The store's files as memory paths and text; what cannot be a memory is reported and left out. */
async function readStoreFiles(container: Docker.Container, store: MountedStore, report: MemorySyncReport) {
  // As the agent's user: it reads what the agent can, and follows no links out of the folder (tar -c keeps them).
  const result = await runProcess(container, {
    argv: ['bash', '-c', '[ -d "$1" ] || exit 0; tar -C "$1" -cf - .', 'sync', store.mountPath],
    user: sandboxUser,
    maxBytes: maxStoreBytes,
  });
  if (result.stdoutTruncated) throw new Error(`${store.mountPath} is larger than ${maxStoreBytes} bytes`);
  if (result.exitCode !== 0 && result.stdout.length === 0) {
    throw new Error(`reading ${store.mountPath} failed: ${result.stderr.toString().trim()}`);
  }
  const files = new Map<string, string>();
  if (result.stdout.length === 0) return files;
  for (const file of await regularFiles(result.stdout)) {
    const path = `/${file.path}`;
    const content = file.data.toString('utf8');
    const problem =
      memoryPathProblem(path) ??
      (Buffer.from(content, 'utf8').equals(file.data) ? memoryContentProblem(content) : 'not UTF-8 text');
    if (problem) report.skipped.push(`${store.mountPath}${path}: ${problem}`);
    else files.set(path, content);
  }
  return files;
}

async function syncStore(
  pool: pg.Pool,
  container: Docker.Container,
  owner: SandboxOwner,
  store: MountedStore,
  report: MemorySyncReport,
): Promise<void> {
  const actor = { type: 'session_actor' as const, session_id: owner.sessionId };
  const files = await readStoreFiles(container, store, report);
  const bases = await mountBases(pool, owner.sessionId, store.memoryStoreId);
  for (const [path, content] of files) {
    const base = bases.get(path);
    if (base && base.contentSha256 === sha256Hex(content)) continue;
    const write = { path, content, baseVersionId: base?.memoryVersionId };
    const outcome = await syncMemoryWrite(pool, owner.tenantId, store.memoryStoreId, write, actor);
    if (outcome.kind !== 'written') {
      report.skipped.push(`${store.mountPath}${path}: ${outcome.reason ?? outcome.kind}`);
      continue;
    }
    report.written++;
    if (outcome.conflict) report.conflicts.push(`${store.mountPath}${path}`);
    await advanceMountBase(pool, owner, store.memoryStoreId, outcome.row);
  }
  for (const base of bases.values()) {
    if (files.has(base.path)) continue;
    const remove = { path: base.path, baseVersionId: base.memoryVersionId };
    const outcome = await syncMemoryDelete(pool, owner.tenantId, store.memoryStoreId, remove, actor);
    if (outcome.kind === 'skipped') continue;
    if (outcome.kind === 'deleted') report.deleted++;
    else report.skipped.push(`${store.mountPath}${base.path}: not deleted, ${outcome.reason ?? 'kept'}`);
    await dropMountBase(pool, owner.sessionId, store.memoryStoreId, base.path);
  }
}
