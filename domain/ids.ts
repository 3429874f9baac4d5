// Resource id prefixes, as Anthropic's Managed Agents API uses them. Ids are `<prefix><random>`; random parts come from
// node:crypto outside workflows and from the workflow's deterministic uuid4() inside them.
export const idPrefix = {
  agent: 'agent_',
  environment: 'env_',
  session: 'sesn_',
  thread: 'sthr_',
  event: 'sevt_',
  sessionResource: 'sesrsc_',
  vault: 'vlt_',
  credential: 'vcrd_',
  file: 'file_',
  skill: 'skill_',
  tenant: 'tnt_',
  apiKey: 'key_',
  environmentKey: 'envkey_',
  work: 'work_',
  request: 'req_',
  deployment: 'depl_',
  deploymentRun: 'drun_',
  webhookEndpoint: 'whep_',
  webhookEvent: 'wevt_',
  memoryStore: 'memstore_',
  memory: 'mem_',
  memoryVersion: 'memver_',
  dream: 'drm_',
  outcome: 'outc_',
  contextSummary: 'csum_',
  workflowRun: 'wfrun_',
  workflowRunPhase: 'wfphase_',
} as const;

export type IdKind = keyof typeof idPrefix;

/** Builds an id from a uuid (dashes dropped) or any random token. */
export const makeId = (kind: IdKind, random: string): string => `${idPrefix[kind]}${random.replaceAll('-', '')}`;

export const hasPrefix = (kind: IdKind, id: string): boolean =>
  id.startsWith(idPrefix[kind]) && /^[A-Za-z0-9_]+$/.test(id) && id.length <= 128;

/** The Temporal workflow id of a session. */
export const sessionWorkflowId = (sessionId: string): string => `session-${sessionId}`;
