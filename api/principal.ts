// What a self-hosted runner's credentials may reach (tenant API keys: api/auth.ts). An environment key reaches only its environment's work queue (poll, list, ack, heartbeat,
// stop). A work item's sessions token reaches only that item's work calls and its one session: retrieve, the event
// list and stream, sending events, its agent's skills and the memories of the stores attached to it (writes only to
// read_write ones) — nothing else, and only while the item is not stopped.

export type Principal =
  | { kind: 'environment_key'; environmentId: string; keyId: string }
  | { kind: 'work_token'; environmentId: string; workId: string; sessionId: string };

/** The id recorded as the actor of what a runner's credential does (the trace's sent_by). */
export const principalId = (principal: Principal): string =>
  principal.kind === 'environment_key' ? principal.keyId : principal.workId;

const work = '/v1/environments/:environment_id/work';
const itemCalls = new Set([
  `POST ${work}/:work_id/ack`,
  `POST ${work}/:work_id/heartbeat`,
  `POST ${work}/:work_id/stop`,
]);
const environmentKeyRoutes = new Set([`GET ${work}/poll`, `GET ${work}`, ...itemCalls]);
const sessionRoutes = new Set([
  'GET /v1/sessions/:session_id',
  'GET /v1/sessions/:session_id/events',
  'POST /v1/sessions/:session_id/events',
  'GET /v1/sessions/:session_id/events/stream',
]);

/**
 * The skill downloads the SDK's runner makes (`setupSkills`). A sessions token reaches them only for the skills its
 * session's agent pins: permits() lets the routes through and the caller checks the skill (sessionPinsSkill).
 */
export const runnerSkillRoutes = new Set([
  'GET /v1/skills/:skill_id/versions/:version',
  'GET /v1/skills/:skill_id/versions/:version/content',
]);

/**
 * The memory calls the SDK's runner makes (`SessionMemoryStores`: list, retrieve, create, update, delete). A sessions
 * token reaches them only for the stores attached to its session, and writes only for read_write ones: permits() lets
 * the routes through and the caller checks the attachment (sessionMemoryAccess).
 */
export const runnerMemoryRoutes = new Set([
  'GET /v1/memory_stores/:memory_store_id/memories',
  'GET /v1/memory_stores/:memory_store_id/memories/:memory_id',
  'POST /v1/memory_stores/:memory_store_id/memories',
  'POST /v1/memory_stores/:memory_store_id/memories/:memory_id',
  'DELETE /v1/memory_stores/:memory_store_id/memories/:memory_id',
]);

/** Whether `principal` may call the route `url` (Fastify's pattern) with these raw path parameters. */
export function permits(
  principal: Principal,
  method: string,
  url: string | undefined,
  params: Record<string, string | undefined>,
): boolean {
  if (url === undefined) return false;
  const route = `${method === 'HEAD' ? 'GET' : method} ${url}`;
  if (principal.kind === 'environment_key') {
    return environmentKeyRoutes.has(route) && params.environment_id === principal.environmentId;
  }
  if (sessionRoutes.has(route)) return params.session_id === principal.sessionId;
  if (runnerSkillRoutes.has(route) || runnerMemoryRoutes.has(route)) return true;
  return (
    itemCalls.has(route) && params.environment_id === principal.environmentId && params.work_id === principal.workId
  );
}
