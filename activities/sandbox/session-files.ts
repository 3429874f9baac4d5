// Files in and out of a session's sandbox. The session's file resources are written read-only (root-owned, mode 0444,
// in root-owned folders) at their mount paths when a container is created or restored; files the agent writes under
// the outputs folder are captured as session-scoped files whenever the workspace is snapshotted (each turn's end, and
// before an idle sandbox is removed) and when the sandbox is removed at the session's end. /mnt/session is a tmpfs
// (see sandboxContainerOptions), which the archive API cannot see, so both directions go through exec.
import { posix } from 'node:path';
import type Docker from 'dockerode';
import type pg from 'pg';
import tar from 'tar-stream';
import { saveSessionOutput } from '../../db/repositories/files.ts';
import type { SandboxOwner } from '../../domain/sandbox.ts';
import { runProcess } from './docker-stream.ts';

export const sessionMountDir = '/mnt/session';
export const outputsDir = `${sessionMountDir}/outputs`;
const rootUser = '0:0';
/** Largest outputs folder captured at once (a tar of it, read through exec). */
const maxOutputsBytes = 64 * 1024 * 1024;

const isUnder = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/** Why a file resource cannot be mounted at this path, or undefined. */
export function fileMountProblem(mountPath: string): string | undefined {
  const path = posix.normalize(mountPath);
  // The rest of the root filesystem is read-only; the API documents /mnt/session/uploads/<file_id> as the default.
  if (!isUnder(path, sessionMountDir) || path === sessionMountDir || isUnder(path, outputsDir)) {
    return `${mountPath} is outside ${sessionMountDir} or in its outputs`;
  }
  return undefined;
}

/** Writes one file resource read-only (root-owned, mode 0444) at its mount path. */
export async function writeMountedFile(container: Docker.Container, mountPath: string, data: Buffer): Promise<void> {
  await runAsRoot(
    container,
    ['bash', '-c', 'mkdir -p -- "${1%/*}" && rm -f -- "$1" && cat > "$1" && chmod 0444 -- "$1"', 'mount', mountPath],
    data,
  );
}

/** Removes a file resource that was detached from the session. */
export async function removeMountedFile(container: Docker.Container, mountPath: string): Promise<void> {
  await runAsRoot(container, ['rm', '-f', '--', posix.normalize(mountPath)]);
}

/** Records every regular file under the outputs folder as a session-scoped file; returns how many were new. */
export async function captureSessionOutputs(
  pool: pg.Pool,
  container: Docker.Container,
  owner: SandboxOwner,
): Promise<number> {
  const result = await runProcess(container, {
    argv: ['bash', '-c', '[ -d "$1" ] || exit 0; tar -C "$1" -cf - .', 'capture', outputsDir],
    user: rootUser,
    maxBytes: maxOutputsBytes,
  });
  if (result.exitCode !== 0) throw new Error(`capturing ${outputsDir} failed: ${result.stderr.toString().trim()}`);
  if (result.stdoutTruncated) throw new Error(`${outputsDir} is larger than ${maxOutputsBytes} bytes`);
  if (result.stdout.length === 0) return 0;
  let added = 0;
  for (const output of await regularFiles(result.stdout)) {
    if (await saveSessionOutput(pool, owner, { ...output, mimeType: mimeTypeOf(output.path) })) added++;
  }
  return added;
}

export async function runAsRoot(container: Docker.Container, argv: string[], stdin?: Buffer): Promise<void> {
  const result = await runProcess(container, { argv, user: rootUser, maxBytes: 4096, ...(stdin ? { stdin } : {}) });
  if (result.exitCode !== 0) throw new Error(`${argv.at(-1)}: ${result.stderr.toString().trim()}`);
}

/** The regular files of a tar archive (paths relative, no `..`); links and folders are left out. */
export async function regularFiles(archive: Buffer): Promise<{ path: string; data: Buffer }[]> {
  const extract = tar.extract();
  const files: { path: string; data: Buffer }[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const path = posix.normalize(entry.header.name).replace(/^\.\//, '');
      if (entry.header.type === 'file' && path && !path.startsWith('..'))
        files.push({ path, data: Buffer.concat(chunks) });
    }
  })();
  extract.end(archive);
  await done;
  return files;
}

const mimeTypes: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.html': 'text/html',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

const mimeTypeOf = (path: string): string => mimeTypes[posix.extname(path).toLowerCase()] ?? 'application/octet-stream';
