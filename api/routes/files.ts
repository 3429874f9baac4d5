// /v1/files (upload as multipart/form-data, kept in PostgreSQL) and /v1/sessions/:id/resources (file resources).
import { z } from 'zod';
import {
  addSessionResource,
  createFile,
  defaultMountPath,
  deleteFile,
  deleteSessionResource,
  existingFileIds,
  getFile,
  getFileContent,
  getSessionResource,
  listFiles,
  pageSessionResources,
} from '../../db/repositories/files.ts';
import { getSessionRow } from '../../db/repositories/sessions.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { invalidRequest, notFound } from '../errors.ts';
import { deletedSchema, listQuerySchema, pageSchema } from '../schemas/common.ts';
import { fileListQuerySchema, fileSchema } from '../schemas/files.ts';
import { fileResourceSchema, resourceSchema } from '../schemas/sessions.ts';

const fileParams = z.object({ file_id: z.string().min(1).max(128) });
const sessionParams = z.object({ session_id: z.string().min(1).max(128) });
const resourceParams = sessionParams.extend({ resource_id: z.string().min(1).max(128) });

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

export function registerFileRoutes(app: ZodApp, { pool }: ApiContext): void {
  app.post(
    '/v1/files',
    {
      schema: {
        tags: ['files'],
        summary: 'Upload a file (multipart/form-data, part "file")',
        response: { 200: fileSchema },
      },
    },
    async (request) => {
      const file = await uploadedFile(request.body, request.headers['content-type'] ?? '');
      return createFile(pool, request.tenantId, file);
    },
  );

  app.get(
    '/v1/files',
    {
      schema: {
        tags: ['files'],
        summary: 'List files',
        querystring: fileListQuerySchema,
        response: { 200: pageSchema(fileSchema) },
      },
    },
    async (request) =>
      listFiles(pool, request.tenantId, {
        limit: request.query.limit,
        page: request.query.page,
        scopeId: request.query.scope_id,
      }),
  );

  app.get(
    '/v1/files/:file_id',
    { schema: { tags: ['files'], summary: 'Get file metadata', params: fileParams, response: { 200: fileSchema } } },
    async (request) => {
      const file = await getFile(pool, request.tenantId, request.params.file_id);
      if (!file) throw notFound('file', request.params.file_id);
      return file;
    },
  );

  app.get(
    '/v1/files/:file_id/content',
    { schema: { tags: ['files'], summary: 'Download a file', params: fileParams } },
    async (request, reply) => {
      const content = await getFileContent(pool, request.tenantId, request.params.file_id);
      if (!content) throw notFound('file', request.params.file_id);
      return reply
        .type(content.mimeType)
        .header('content-disposition', `attachment; filename="${content.filename.replace(/["\\\r\n]/g, '_')}"`)
        .send(content.data);
    },
  );

  app.delete(
    '/v1/files/:file_id',
    {
      schema: {
        tags: ['files'],
        summary: 'Delete a file',
        params: fileParams,
        response: { 200: deletedSchema('file_deleted') },
      },
    },
    async (request) => {
      if (!(await deleteFile(pool, request.tenantId, request.params.file_id)))
        throw notFound('file', request.params.file_id);
      return { id: request.params.file_id, type: 'file_deleted' as const };
    },
  );

  // ---- session resources -------------------------------------------------------------------------------------------

  const requireSession = async (tenantId: string, sessionId: string) => {
    const row = await getSessionRow(pool, tenantId, sessionId);
    if (!row) throw notFound('session', sessionId);
    return row;
  };

  app.post(
    '/v1/sessions/:session_id/resources',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Attach a file to a session',
        params: sessionParams,
        body: fileResourceSchema,
        response: { 200: resourceSchema },
      },
    },
    async (request) => {
      const row = await requireSession(request.tenantId, request.params.session_id);
      const fileId = request.body.file_id;
      if (!(await existingFileIds(pool, request.tenantId, [fileId])).has(fileId)) throw notFound('file', fileId);
      return addSessionResource(pool, request.tenantId, row.id, {
        fileId,
        mountPath: request.body.mount_path ?? defaultMountPath(fileId),
      });
    },
  );

  app.get(
    '/v1/sessions/:session_id/resources',
    {
      schema: {
        tags: ['sessions'],
        summary: "List a session's resources",
        params: sessionParams,
        querystring: listQuerySchema,
        response: { 200: pageSchema(resourceSchema) },
      },
    },
    async (request) => {
      const row = await requireSession(request.tenantId, request.params.session_id);
      return pageSessionResources(pool, request.tenantId, row.id, {
        limit: request.query.limit,
        page: request.query.page,
      });
    },
  );

  app.get(
    '/v1/sessions/:session_id/resources/:resource_id',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Get a session resource',
        params: resourceParams,
        response: { 200: resourceSchema },
      },
    },
    async (request) => {
      const resource = await getSessionResource(
        pool,
        request.tenantId,
        request.params.session_id,
        request.params.resource_id,
      );
      if (!resource) throw notFound('session resource', request.params.resource_id);
      return resource;
    },
  );

  app.delete(
    '/v1/sessions/:session_id/resources/:resource_id',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Detach a resource from a session',
        params: resourceParams,
        response: { 200: deletedSchema('session_resource_deleted') },
      },
    },
    async (request) => {
      const { session_id: sessionId, resource_id: resourceId } = request.params;
      if (!(await deleteSessionResource(pool, request.tenantId, sessionId, resourceId))) {
        throw notFound('session resource', resourceId);
      }
      return { id: resourceId, type: 'session_resource_deleted' as const };
    },
  );
}
