// /v1/skills and /v1/skills/:skill_id/versions: create by upload (multipart, see skill-upload.ts), list, retrieve,
// delete, and download a version's files as a zip. Versions are immutable; a skill is deleted once its versions are.
import { zipSync } from 'fflate';
import {
  createSkill,
  createSkillVersion,
  deleteSkill,
  deleteSkillVersion,
  listSkills,
  listSkillVersions,
  skillVersionFiles,
  type SkillChange,
} from '../../db/repositories/skills.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { ApiError, conflict, invalidRequest } from '../errors.ts';
import { orNotFound, skills, skillVersions } from '../resources.ts';
import { parseSkillUpload } from '../skill-upload.ts';
import { skillListQuerySchema, skillSchema, skillVersionSchema } from '../schemas/skills.ts';

const tags = ['skills'];
const readOnly = (): ApiError => new ApiError(403, 'permission_error', 'built-in skills are read-only');

/** The change's value; a refused change as its 4xx (`not_found` answers undefined: the route's own 404). */
function outcome<T>(change: SkillChange<T>, conflictMessage: string): T | undefined {
  if (change.ok) return change.value;
  if (change.reason === 'read_only') throw readOnly();
  if (change.reason === 'conflict') throw conflict(conflictMessage);
  return undefined;
}

export function registerSkillRoutes(app: ZodApp, { pool }: ApiContext): void {
  crudRoutes(app, pool, { kind: skills, path: '/v1/skills', tags, schema: skillSchema })
    .create(
      { summary: 'Create a skill (multipart/form-data: "files[]" parts or one zip, optional "display_name")' },
      async ({ tenantId, request, id }) => {
        const { upload, displayName } = await parseSkillUpload(request.body, request.headers['content-type'] ?? '');
        return createSkill(pool, tenantId, { displayName, upload }, id);
      },
    )
    .list({ summary: 'List skills', querystring: skillListQuerySchema }, async ({ tenantId, query }) =>
      listSkills(pool, tenantId, { limit: query.limit, page: query.page, source: query.source }),
    )
    .retrieve({ summary: 'Get a skill' })
    .remove(
      { summary: 'Delete a skill (its versions first)', deletedType: 'skill_deleted' },
      async ({ tenantId, params }) =>
        Boolean(
          outcome(
            await deleteSkill(pool, tenantId, params.skill_id),
            `skill ${params.skill_id} still has versions: delete them first`,
          ),
        ),
    );

  crudRoutes(app, pool, {
    kind: skillVersions,
    parent: skills,
    path: '/v1/skills/:skill_id/versions',
    tags,
    schema: skillVersionSchema,
  })
    .create(
      { summary: 'Create a skill version (multipart, as skill creation)' },
      async ({ tenantId, request, parent: skill }) => {
        const { upload } = await parseSkillUpload(request.body, request.headers['content-type'] ?? '');
        const version = outcome(
          await createSkillVersion(pool, tenantId, skill.id, upload),
          `the upload's skill name ${JSON.stringify(upload.name)} is not this skill's name`,
        );
        return orNotFound(version, 'skill', skill.id);
      },
    )
    .list({ summary: 'List skill versions' }, async ({ tenantId, query, parent: skill }) =>
      listSkillVersions(pool, tenantId, skill.id, { limit: query.limit, page: query.page }),
    )
    .retrieve({ summary: 'Get a skill version (`latest`: the newest)' })
    .remove(
      { summary: 'Delete a skill version', deletedType: 'skill_version_deleted' },
      async ({ tenantId, params }) => {
        if (params.version === 'latest') throw invalidRequest('delete a version by its id, not "latest"');
        return Boolean(outcome(await deleteSkillVersion(pool, tenantId, params.skill_id, params.version), ''));
      },
    );

  app.get(
    '/v1/skills/:skill_id/versions/:version/content',
    { schema: { tags, summary: "Download a skill version's files as a zip archive", params: skillVersions.params } },
    async (request, reply) => {
      const version = await skillVersions.require(pool, request.tenantId, request.params);
      const files = orNotFound(
        await skillVersionFiles(pool, request.tenantId, version.skill_id, version.id),
        'skill version',
        version.id,
      );
      // Wrapped in one folder named after the skill, as Anthropic's archives are (the SDK's runner strips it).
      const archive = zipSync(Object.fromEntries(files.map((file) => [`${version.name}/${file.path}`, file.data])));
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="${version.name}.zip"`)
        .send(Buffer.from(archive));
    },
  );
}
