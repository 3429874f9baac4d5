// Skills as an agent references them and as a session pins them. An agent stores each skill pinned to a concrete
// version (a `latest` or omitted version is resolved when the agent is created or updated); a session's agent
// snapshot adds the version's name and description, so the workflow can list the skills in the system prompt
// without I/O. The files themselves are written into the sandbox (read-only) under `skillsMountDir/<name>/`:
// progressive disclosure — the model sees name and description, and reads SKILL.md when it needs the body.

/** A skill on an agent: `custom` (uploaded through /v1/skills) or `anthropic` (a built-in the platform ships). */
export interface SkillReference {
  type: 'custom' | 'anthropic';
  skill_id: string;
  /** The pinned version id. */
  version: string;
}

/** A skill as a session pins it: the reference plus what the model is told about it. */
export interface PinnedSkill extends SkillReference {
  name: string;
  description: string;
}

/** Where a session's skills are in the sandbox (each in a folder named after the skill). */
export const skillsMountDir = '/mnt/session/skills';

/** The skill's folder in the sandbox. */
export const skillMountPath = (name: string): string => `${skillsMountDir}/${name}`;

/**
 * The pinned skills of a snapshot. Agents from before skills were supported could hold references without name and
 * description (accepted and ignored then); those are left out.
 */
export const pinnedSkills = (skills: readonly unknown[] | undefined): PinnedSkill[] =>
  (skills ?? []).filter(
    (skill): skill is PinnedSkill =>
      typeof skill === 'object' &&
      skill !== null &&
      typeof (skill as PinnedSkill).name === 'string' &&
      typeof (skill as PinnedSkill).description === 'string' &&
      typeof (skill as PinnedSkill).skill_id === 'string' &&
      typeof (skill as PinnedSkill).version === 'string',
  );

/** Where a self-hosted runner puts skills: `skills/<name>/` in its working directory (the SDK's `setupSkills`). */
export const runnerSkillsDir = 'skills';

/** The system prompt section that tells the model which skills it has and where their files are. */
function skillsSection(skills: PinnedSkill[], dir: string): string {
  const lines = skills.map(
    (skill) => `- ${skill.name}: ${skill.description.replace(/\s+/g, ' ').trim()} (${dir}/${skill.name}/)`,
  );
  return [
    '<skills>',
    `You have these skills. Each is a folder under ${dir}/. Before you use one, read its SKILL.md (for example ` +
      'with `cat`) for its instructions; it may point to further files in the same folder.',
    ...lines,
    '</skills>',
  ].join('\n');
}

/**
 * The agent's system prompt with its skills listed after it; unchanged when the agent has no pinned skills. `dir` is
 * where the files are: the sandbox's skillsMountDir, or runnerSkillsDir for a self-hosted environment's runner.
 */
export function systemWithSkills(
  system: string | null,
  skills: readonly unknown[] | undefined,
  dir: string = skillsMountDir,
): string | undefined {
  const pinned = pinnedSkills(skills);
  if (pinned.length === 0) return system ?? undefined;
  const section = skillsSection(pinned, dir);
  return system ? `${system}\n\n${section}` : section;
}

/** A skill name: the agentskills.io slug (lowercase letters, digits and single hyphens, at most 64 characters). */
export const skillNamePattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const maxSkillNameLength = 64;
export const maxSkillDescriptionLength = 1024;
