// The agent's skills in the sandbox: each pinned version's files, read from PostgreSQL, are unpacked read-only
// (root-owned, files 0444 in 0755 folders the sandbox user cannot write) under /mnt/session/skills/<name>/ when a
// container is created or restored, beside the session's file resources (session-files.ts). /mnt/session is a tmpfs
// the archive API cannot see, so the files go in as one tar through exec.
import type Docker from 'dockerode';
import type pg from 'pg';
import tar from 'tar-stream';
import { skillVersionFiles, type SkillFile } from '../../db/repositories/skills.ts';
import type { SkillMount } from '../../domain/contracts/sandbox-activity.ts';
import type { SandboxOwner } from '../../domain/sandbox.ts';
import { skillMountPath, skillNamePattern, skillsMountDir } from '../../domain/skills.ts';
import { runProcess } from './docker-stream.ts';

const rootUser = '0:0';

async function tarOf(files: SkillFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const file of files) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: file.path, mode: 0o444, uid: 0, gid: 0 }, file.data, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** Writes each skill's files under skillsMountDir/<name>/; a skill whose version is gone is skipped with a warning. */
export async function mountSessionSkills(
  pool: pg.Pool,
  container: Docker.Container,
  owner: SandboxOwner,
  skills: SkillMount[],
  onSkipped: (message: string) => void,
): Promise<void> {
  for (const skill of skills) {
    const files = await skillVersionFiles(pool, owner.tenantId, skill.skillId, skill.version);
    if (!files || !skillNamePattern.test(skill.name)) {
      onSkipped(`skill ${skill.skillId} version ${skill.version} not mounted: it no longer exists`);
      continue;
    }
    // Files keep the archive's 0444; folders tar creates get 0755 (umask): root-owned, so the agent cannot write.
    const script =
      'umask 022 && rm -rf -- "$1" && mkdir -p -- "$1" && tar -x --no-same-owner --no-same-permissions -f - -C "$1"';
    const result = await runProcess(container, {
      argv: ['bash', '-c', script, 'skill', skillMountPath(skill.name)],
      user: rootUser,
      maxBytes: 4096,
      stdin: await tarOf(files),
    });
    if (result.exitCode !== 0) {
      throw new Error(
        `mounting skill ${skill.name} under ${skillsMountDir} failed: ${result.stderr.toString().trim()}`,
      );
    }
  }
}
