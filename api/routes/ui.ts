// GET /ui (no auth): the session viewer, a static page with vanilla JS and no build step (api/ui/). The page asks for
// an API key, keeps it in sessionStorage and sends it as x-api-key on its calls to /v1/*; the files themselves carry
// nothing secret, so they are served without a key.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ZodApp } from '../context.ts';
import { notFound } from '../errors.ts';

const uiDirectory = new URL('../ui/', import.meta.url);
const assets: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'trace-view.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

async function sendAsset(name: string) {
  const type = assets[name];
  if (!type) throw notFound('file', name);
  return { type, body: await readFile(new URL(name, uiDirectory)) };
}

export function registerUiRoutes(app: ZodApp): void {
  const headers = {
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    // Only this origin's scripts and API: a hostile event text cannot load or send anything elsewhere.
    'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
  };
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) => {
    const asset = await sendAsset('index.html');
    return reply.headers(headers).type(asset.type).send(asset.body);
  });
  app.get(
    '/ui/:file',
    { schema: { hide: true, params: z.object({ file: z.string().max(64) }) } },
    async (request, reply) => {
      const asset = await sendAsset(request.params.file);
      return reply.headers(headers).type(asset.type).send(asset.body);
    },
  );
}
