// /v1/files (upload as multipart/form-data, kept in PostgreSQL) and /v1/sessions/:id/resources (files added and
// removed; a repository's token rotated by update). A running sandbox picks the change up before its next tool call.
import {
  addSessionResource,
  createFile,
  deleteFile,
  deleteSessionResource,
  existingFileIds,
  getFileContent,
  getSessionResource,
  listFiles,
  pageSessionResources,
} from '../../db/repositories/files.ts';
import { rotateRepositoryToken } from '../../db/repositories/repository-resources.ts';
import { defaultFileMountPath } from '../../domain/session-resources.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { invalidRequest, notFound } from '../errors.ts';
import { fileListQuerySchema, fileSchema } from '../schemas/files.ts';
import { fileResourceSchema, resourceSchema, resourceUpdateSchema } from '../schemas/sessions.ts';
import { files, orNotFound, sessionResources, sessions } from '../resources.ts';

/** Reads the `file` part of a multipart body with the platform's own form parser (no extra dependency). */
async function uploadedFile(
  body: unknown,
  contentType: string,
): Promise<{ filename: string; mimeType: string; data: Buffer }> {
  if (!Buffer.isBuffer(body)) throw invalidRequest('send the file as multipart/form-data with a "file" part');
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw invalidRequest('malformed multipart/form-data body');
  }
  const part = form.get('file');
  if (!part || typeof part === 'string') throw invalidRequest('the multipart body has no "file" part');
  return {
    filename: part.name || 'upload',
    mimeType: part.type || 'application/octet-stream',
    data: Buffer.from(await part.arrayBuffer()),
  };
}

export function registerFileRoutes(app: ZodApp, { pool, secretBox }: ApiContext): void {
  crudRoutes(app, pool, { kind: files, path: '/v1/files', tags: ['files'], schema: fileSchema })
    .create({ summary: 'Upload a file (multipart/form-data, part "file")' }, async ({ tenantId, request, id }) =>
      createFile(pool, tenantId, await uploadedFile(request.body, request.headers['content-type'] ?? ''), id),
    )
    .list({ summary: 'List files', querystring: fileListQuerySchema }, async ({ tenantId, query }) =>
      listFiles(pool, tenantId, { limit: query.limit, page: query.page, scopeId: query.scope_id }),
    )
    .retrieve({ summary: 'Get file metadata' })
    .remove({ summary: 'Delete a file', deletedType: 'file_deleted' }, async ({ tenantId, params }) =>
      deleteFile(pool, tenantId, params.file_id),
    );

  app.get(
    '/v1/files/:file_id/content',
    { schema: { tags: ['files'], summary: 'Download a file', params: files.params } },
    async (request, reply) => {
      const content = orNotFound(
        await getFileContent(pool, request.tenantId, request.params.file_id),
        'file',
        request.params.file_id,
      );
      return reply
        .type(content.mimeType)
        .header('content-disposition', `attachment; filename="${content.filename.replace(/["\\\r\n]/g, '_')}"`)
        .send(content.data);
    },
  );

  // ---- session resources -------------------------------------------------------------------------------------------

  crudRoutes(app, pool, {
    kind: sessionResources,
    parent: sessions,
    path: '/v1/sessions/:session_id/resources',
    tags: ['sessions'],
    schema: resourceSchema,
  })
    .create(
      { summary: 'Attach a file to a session', body: fileResourceSchema },
      async ({ tenantId, body, parent: session }) => {
        const fileId = body.file_id;
        if (!(await existingFileIds(pool, tenantId, [fileId])).has(fileId)) throw notFound('file', fileId);
        return addSessionResource(pool, tenantId, session.id, {
          fileId,
          mountPath: body.mount_path ?? defaultFileMountPath(fileId),
        });
      },
    )
    .list({ summary: "List a session's resources" }, async ({ tenantId, query, parent: session }) =>
      pageSessionResources(pool, tenantId, session.id, { limit: query.limit, page: query.page }),
    )
    .retrieve({ summary: 'Get a session resource' })
    .update(
      { summary: "Rotate a repository resource's authorization token", body: resourceUpdateSchema },
      async ({ tenantId, params, body }) => {
        const target = { tenantId, sessionId: params.session_id, resourceId: params.resource_id };
        const rotated = await rotateRepositoryToken(pool, secretBox, target, body.authorization_token);
        if (rotated) return rotated;
        // The resource exists but is a file: nothing about it can change.
        if (await getSessionResource(pool, tenantId, params.session_id, params.resource_id)) {
          throw invalidRequest('only github_repository resources can be updated (their authorization_token)');
        }
        return undefined;
      },
    )
    .remove(
      { summary: 'Detach a resource from a session', deletedType: 'session_resource_deleted' },
      async ({ tenantId, params }) => deleteSessionResource(pool, tenantId, params.session_id, params.resource_id),
    );
}
