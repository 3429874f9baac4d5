// An agent's skills: resolved to concrete versions when the agent is created or updated (`latest` or no version pins
// the newest), and pinned with each version's name and description when a session starts. A custom skill must be the
// tenant's own; an `anthropic` skill must be a built-in the platform ships (README, "Skills"); anything else is a 400.
import type pg from 'pg';
import { getBuiltinSkill, getSkill, getSkillVersion } from '../db/repositories/skills.ts';
import type { PinnedSkill, SkillReference } from '../domain/skills.ts';
import { invalidRequest } from './errors.ts';

/** A skill as an agent request names it (Anthropic's skill params). */
export interface SkillParams {
  type: 'custom' | 'anthropic';
  skill_id: string;
  version?: string | null;
}

async function resolveOne(pool: pg.Pool, tenantId: string, params: SkillParams): Promise<PinnedSkill> {
  const skill =
    params.type === 'custom'
      ? await getSkill(pool, tenantId, params.skill_id)
      : await getBuiltinSkill(pool, params.skill_id);
  if (!skill || skill.source.type !== params.type) {
    throw invalidRequest(
      params.type === 'custom'
        ? `custom skill ${JSON.stringify(params.skill_id)} was not found`
        : `built-in skill ${JSON.stringify(params.skill_id)} is not shipped by this platform (GET /v1/skills?source=anthropic lists those that are)`,
    );
  }
  const wanted = params.version ?? 'latest';
  const version = await getSkillVersion(pool, tenantId, skill.id, wanted);
  if (!version) throw invalidRequest(`skill ${skill.id} has no version ${JSON.stringify(wanted)}`);
  return {
    type: params.type,
    skill_id: skill.id,
    version: version.id,
    name: version.name,
    description: version.description,
  };
}

/** The agent's skills, each pinned to a concrete version; one skill (and one skill name) at most once. */
export async function resolveSkills(pool: pg.Pool, tenantId: string, skills: SkillParams[]): Promise<SkillReference[]> {
  const resolved: SkillReference[] = [];
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const params of skills) {
    const { name, description: _description, ...reference } = await resolveOne(pool, tenantId, params);
    if (ids.has(reference.skill_id)) throw invalidRequest(`skill ${reference.skill_id} is listed twice`);
    if (names.has(name)) throw invalidRequest(`two skills are named ${JSON.stringify(name)}`);
    ids.add(reference.skill_id);
    names.add(name);
    resolved.push(reference);
  }
  return resolved;
}

/** What a session pins: each skill with its version's name and description. A deleted version is a 400. */
export async function pinSkills(pool: pg.Pool, tenantId: string, skills: SkillReference[]): Promise<PinnedSkill[]> {
  const pinned: PinnedSkill[] = [];
  for (const skill of skills) {
    // Agents stored before skills were supported may hold an unresolved version: the newest then.
    const version = await getSkillVersion(pool, tenantId, skill.skill_id, skill.version || 'latest');
    if (!version) {
      throw invalidRequest(`the agent's skill ${skill.skill_id} version ${skill.version} no longer exists`);
    }
    pinned.push({ ...skill, version: version.id, name: version.name, description: version.description });
  }
  return pinned;
}
