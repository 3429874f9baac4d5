// Skills, their immutable versions and each version's files. A tenant sees its own skills and the built-ins (rows
// with no tenant, source `anthropic`); it can change only its own. A skill's `latest_version_id` is its newest
// remaining version (null once every version is deleted: the skill can then be deleted).
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Queryable } from '../queryable.ts';
import { withTransaction } from '../transaction.ts';
import { makeId } from '../../domain/ids.ts';
import { cursorCondition, pageOf, type ListOptions, type Page } from './pagination.ts';

export type SkillSource = 'custom' | 'anthropic';

export interface SkillRecord {
  id: string;
  type: 'skill';
  display_name: string;
  latest_version_id: string | null;
  source: { type: SkillSource };
  created_at: string;
  updated_at: string;
}

export interface SkillVersionRecord {
  id: string;
  type: 'skill_version';
  skill_id: string;
  name: string;
  description: string;
  created_at: string;
}

/** One file of a version: its path inside the skill's folder (no leading folder, no `..`). */
export interface SkillFile {
  path: string;
  data: Buffer;
}

/** What an upload resolved to: the SKILL.md front matter and the files. */
export interface SkillUpload {
  name: string;
  description: string;
  files: SkillFile[];
}

interface SkillRow {
  id: string;
  position: string;
  display_name: string;
  source: SkillSource;
  latest_version_id: string | null;
  created_at: Date;
  updated_at: Date;
}

interface VersionRow {
  skill_id: string;
  id: string;
  position: string;
  name: string;
  description: string;
  created_at: Date;
}

const skillColumns = `s.id, s.position, s.display_name, s.source, s.created_at, s.updated_at,
  (select v.id from skill_versions v where v.skill_id = s.id order by v.position desc limit 1) as latest_version_id`;
/** The skills a tenant can read: its own and the built-ins. */
const visible = 's.tenant_id = $1 or s.tenant_id is null';

const toSkill = (row: SkillRow): SkillRecord => ({
  id: row.id,
  type: 'skill',
  display_name: row.display_name,
  latest_version_id: row.latest_version_id,
  source: { type: row.source },
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
});

const toVersion = (row: VersionRow): SkillVersionRecord => ({
  id: row.id,
  type: 'skill_version',
  skill_id: row.skill_id,
  name: row.name,
  description: row.description,
  created_at: row.created_at.toISOString(),
});

/** Inserts a version (id: the epoch in microseconds, above every earlier one of the skill) and its files. */
async function insertVersion(db: Queryable, skillId: string, upload: SkillUpload): Promise<SkillVersionRecord> {
  const { rows } = await db.query<VersionRow>(
    `insert into skill_versions (skill_id, id, name, description)
     select $1, greatest(
       (extract(epoch from clock_timestamp()) * 1000000)::bigint,
       coalesce((select max(id::bigint) from skill_versions where skill_id = $1), 0) + 1)::text, $2, $3
     returning *`,
    [skillId, upload.name, upload.description],
  );
  const version = rows[0] as VersionRow;
  await db.query(
    `insert into skill_files (skill_id, version_id, path, data)
     select $1, $2, file.path, file.data from unnest($3::text[], $4::bytea[]) as file(path, data)`,
    [skillId, version.id, upload.files.map((file) => file.path), upload.files.map((file) => file.data)],
  );
  return toVersion(version);
}

export async function createSkill(
  pool: pg.Pool,
  tenantId: string,
  fields: { displayName: string | undefined; upload: SkillUpload },
  id = makeId('skill', randomUUID()),
): Promise<SkillRecord> {
  await withTransaction(pool, async (client) => {
    await client.query('insert into skills (id, tenant_id, name, display_name) values ($1, $2, $3, $4)', [
      id,
      tenantId,
      fields.upload.name,
      fields.displayName ?? fields.upload.name,
    ]);
    await insertVersion(client, id, fields.upload);
  });
  return (await getSkill(pool, tenantId, id)) as SkillRecord;
}

export async function getSkill(db: Queryable, tenantId: string, id: string): Promise<SkillRecord | undefined> {
  const { rows } = await db.query<SkillRow>(`select ${skillColumns} from skills s where (${visible}) and s.id = $2`, [
    tenantId,
    id,
  ]);
  return rows[0] ? toSkill(rows[0]) : undefined;
}

export async function listSkills(
  pool: pg.Pool,
  tenantId: string,
  options: ListOptions & { source?: SkillSource },
): Promise<Page<SkillRecord>> {
  const params: unknown[] = [tenantId, options.source ?? null, options.limit + 1];
  const cursor = cursorCondition('s.position', { ...options, order: 'desc' }, params.length + 1);
  const { rows } = await pool.query<SkillRow>(
    `select ${skillColumns} from skills s where (${visible}) and ($2::text is null or s.source = $2)
     and ${cursor.sql} order by s.position desc limit $3`,
    [...params, ...cursor.params],
  );
  return pageOf(rows, options.limit, (row) => row.position, toSkill);
}

export type SkillChange<T> = { ok: true; value: T } | { ok: false; reason: 'not_found' | 'read_only' | 'conflict' };

/** Adds a version to one of the tenant's own skills; the upload's name must be the skill's. */
export async function createSkillVersion(
  pool: pg.Pool,
  tenantId: string,
  skillId: string,
  upload: SkillUpload,
): Promise<SkillChange<SkillVersionRecord>> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ tenant_id: string | null; name: string }>(
      `select tenant_id, name from skills s where (${visible}) and s.id = $2 for update`,
      [tenantId, skillId],
    );
    const skill = rows[0];
    if (!skill) return { ok: false, reason: 'not_found' };
    if (skill.tenant_id === null) return { ok: false, reason: 'read_only' };
    if (skill.name !== upload.name) return { ok: false, reason: 'conflict' };
    const version = await insertVersion(client, skillId, upload);
    await client.query('update skills set updated_at = now() where id = $1', [skillId]);
    return { ok: true, value: version };
  });
}

/** A version of a skill the tenant can read; `latest` is the newest. */
export async function getSkillVersion(
  db: Queryable,
  tenantId: string,
  skillId: string,
  version: string,
): Promise<SkillVersionRecord | undefined> {
  const { rows } = await db.query<VersionRow>(
    `select v.* from skill_versions v join skills s on s.id = v.skill_id
     where (${visible}) and v.skill_id = $2 and ($3 = 'latest' or v.id = $3)
     order by v.position desc limit 1`,
    [tenantId, skillId, version],
  );
  return rows[0] ? toVersion(rows[0]) : undefined;
}

export async function listSkillVersions(
  pool: pg.Pool,
  tenantId: string,
  skillId: string,
  options: ListOptions,
): Promise<Page<SkillVersionRecord>> {
  const params: unknown[] = [tenantId, skillId, options.limit + 1];
  const cursor = cursorCondition('v.position', { ...options, order: 'desc' }, params.length + 1);
  const { rows } = await pool.query<VersionRow>(
    `select v.* from skill_versions v join skills s on s.id = v.skill_id
     where (${visible}) and v.skill_id = $2 and ${cursor.sql} order by v.position desc limit $3`,
    [...params, ...cursor.params],
  );
  return pageOf(rows, options.limit, (row) => row.position, toVersion);
}

/** The files of a version the tenant can read, in path order. */
export async function skillVersionFiles(
  db: Queryable,
  tenantId: string,
  skillId: string,
  versionId: string,
): Promise<SkillFile[] | undefined> {
  const { rows } = await db.query<{ path: string | null; data: Buffer | null }>(
    `select f.path, f.data from skill_versions v join skills s on s.id = v.skill_id
     left join skill_files f on f.skill_id = v.skill_id and f.version_id = v.id
     where (${visible}) and v.skill_id = $2 and v.id = $3 order by f.path`,
    [tenantId, skillId, versionId],
  );
  if (rows.length === 0) return undefined;
  return rows.flatMap((row) => (row.path !== null && row.data !== null ? [{ path: row.path, data: row.data }] : []));
}

/** Deletes one version of the tenant's own skill. */
export async function deleteSkillVersion(
  pool: pg.Pool,
  tenantId: string,
  skillId: string,
  versionId: string,
): Promise<SkillChange<true>> {
  const { rowCount } = await pool.query(
    `delete from skill_versions v using skills s
     where s.id = v.skill_id and s.tenant_id = $1 and v.skill_id = $2 and v.id = $3`,
    [tenantId, skillId, versionId],
  );
  if ((rowCount ?? 0) > 0) return { ok: true, value: true };
  return (await getSkillVersion(pool, tenantId, skillId, versionId))
    ? { ok: false, reason: 'read_only' }
    : { ok: false, reason: 'not_found' };
}

/** Deletes one of the tenant's own skills; refused (`conflict`) while it still has versions, as Anthropic's API. */
export async function deleteSkill(pool: pg.Pool, tenantId: string, skillId: string): Promise<SkillChange<true>> {
  const skill = await getSkill(pool, tenantId, skillId);
  if (!skill) return { ok: false, reason: 'not_found' };
  if (skill.source.type !== 'custom') return { ok: false, reason: 'read_only' };
  const { rowCount } = await pool.query(
    `delete from skills s where s.tenant_id = $1 and s.id = $2
     and not exists (select 1 from skill_versions v where v.skill_id = s.id)`,
    [tenantId, skillId],
  );
  return (rowCount ?? 0) > 0 ? { ok: true, value: true } : { ok: false, reason: 'conflict' };
}

/** The built-in skill with this id (what an agent's `{type: 'anthropic', skill_id}` names). */
export async function getBuiltinSkill(db: Queryable, skillId: string): Promise<SkillRecord | undefined> {
  const { rows } = await db.query<SkillRow>(
    `select ${skillColumns} from skills s where s.tenant_id is null and s.id = $1`,
    [skillId],
  );
  return rows[0] ? toSkill(rows[0]) : undefined;
}
