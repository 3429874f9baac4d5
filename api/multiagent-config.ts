// The agent's `multiagent` config in either of the API's forms — `coordinator` (a roster: agent ids, versioned
// references, `self`, at most one advisor) and `multiagent_20261001` (advisor, subagents, workflows, each enabled or
// disabled) — checked and stored with every agent resolved to a version, and pinned into a session's agent snapshot
// as one roster of full agent definitions (domain/agent.ts MultiagentSnapshot). The API's rules: distinct agents
// (after resolving `self` and string forms), at most one `self`, every referenced agent existing, not archived and not
// coordinating itself (depth 1). Inline agents: `subagents.inline_agents` is honoured (enabled by default, as the API
// states; domain/inline-agents.ts); inline agents in a workflow run's plan are not, and are refused with a 400
// (README, *Threads*).
import type pg from 'pg';
import type { AgentSnapshot, MultiagentSnapshot } from '../domain/agent.ts';
import {
  getAgent,
  type AgentRecord,
  type StoredMultiagent,
  type StoredMultiagentMember,
  type StoredRosterAgent,
} from '../db/repositories/agents.ts';
import { invalidRequest } from './errors.ts';
import type { MultiagentBody, MultiagentMemberBody } from './schemas/agents.ts';

type RosterEntryBody = Extract<MultiagentBody, { type: 'coordinator' }>['agents'][number];
type Stored20261001 = Extract<StoredMultiagent, { type: 'multiagent_20261001' }>;

/** Resolves a roster's agent entries (ids, references, `self`) to versions, by the API's rules. */
async function resolveAgents(
  pool: pg.Pool,
  tenantId: string,
  entries: Exclude<RosterEntryBody, { type: 'advisor' }>[],
  where: string,
): Promise<StoredRosterAgent[]> {
  const agents: StoredRosterAgent[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (typeof entry !== 'string' && entry.type === 'self') {
      if (seen.has('self')) throw invalidRequest(`${where}: \`self\` appears twice`);
      seen.add('self');
      agents.push({ type: 'self' });
      continue;
    }
    const reference: { id: string; version?: number } = typeof entry === 'string' ? { id: entry } : entry;
    if (seen.has(reference.id)) throw invalidRequest(`${where}: agent ${reference.id} appears twice in the roster`);
    seen.add(reference.id);
    const target = await getAgent(pool, tenantId, reference.id, reference.version);
    if (!target) throw invalidRequest(`${where}: agent ${reference.id} not found`);
    if (target.archived_at) throw invalidRequest(`${where}: agent ${reference.id} is archived`);
    if (target.multiagent) {
      throw invalidRequest(`${where}: agent ${reference.id} is a coordinator itself (threads nest one level deep)`);
    }
    agents.push({ type: 'agent', id: target.id, version: target.version });
  }
  return agents;
}

async function normalizeCoordinator(
  pool: pg.Pool,
  tenantId: string,
  body: Extract<MultiagentBody, { type: 'coordinator' }>,
): Promise<StoredMultiagent> {
  const advisors = body.agents.filter((entry) => typeof entry !== 'string' && entry.type === 'advisor');
  if (advisors.length > 1) throw invalidRequest('multiagent: at most one advisor in the roster');
  const others = body.agents.filter((entry) => typeof entry === 'string' || entry.type !== 'advisor');
  const agents: Extract<StoredMultiagent, { type: 'coordinator' }>['agents'] = [
    ...(await resolveAgents(pool, tenantId, others as Exclude<RosterEntryBody, { type: 'advisor' }>[], 'multiagent')),
  ];
  // The advisor keeps its place in the roster, as the API returns it.
  const advisorAt = body.agents.findIndex((entry) => typeof entry !== 'string' && entry.type === 'advisor');
  const advisor = advisors[0];
  if (advisor && typeof advisor !== 'string' && advisor.type === 'advisor') {
    agents.splice(advisorAt, 0, { type: 'advisor', model: advisor.model });
  }
  return { type: 'coordinator', agents };
}

async function normalizeMember(
  pool: pg.Pool,
  tenantId: string,
  body: MultiagentMemberBody | null | undefined,
  name: 'subagents' | 'workflows',
): Promise<StoredMultiagentMember> {
  if (body?.type === 'disabled') return { type: 'disabled' };
  // Threads honour inline agents (enabled when omitted, as the API states); a run's plan names saved agents only.
  const inline = body?.inline_agents?.type ?? (name === 'subagents' ? 'enabled' : 'disabled');
  if (name === 'workflows' && inline === 'enabled') {
    throw invalidRequest(
      "multiagent.workflows.inline_agents: inline agents in a workflow run's plan are not supported here; set it to " +
        '{"type": "disabled"} (the default on this platform) and name saved agents in predefined_agents',
    );
  }
  const predefined = await resolveAgents(pool, tenantId, body?.predefined_agents ?? [], `multiagent.${name}`);
  if (predefined.length === 0 && body?.inline_agents?.type === 'disabled') {
    throw invalidRequest(
      `multiagent.${name}: with inline agents disabled, predefined_agents must name at least one agent ` +
        `(or set ${name} to {"type": "disabled"})`,
    );
  }
  return { type: 'enabled', inline_agents: { type: inline }, predefined_agents: predefined };
}

/**
 * An update of a stored `multiagent_20261001` merges into it level by level (the API's rule): an omitted key keeps its
 * stored value; an object of the stored type keeps the stored keys it omits; null or another type takes defaults.
 */
function mergeOver(stored: StoredMultiagent | undefined, body: MultiagentBody): MultiagentBody {
  if (stored?.type !== 'multiagent_20261001' || body.type !== 'multiagent_20261001') return body;
  const member = (key: 'subagents' | 'workflows'): MultiagentMemberBody | null | undefined => {
    const sent = body[key];
    const kept = stored[key];
    if (sent === undefined) return kept;
    if (sent?.type !== 'enabled' || kept.type !== 'enabled') return sent;
    return {
      type: 'enabled',
      inline_agents: sent.inline_agents === undefined ? kept.inline_agents : sent.inline_agents,
      predefined_agents: sent.predefined_agents === undefined ? kept.predefined_agents : sent.predefined_agents,
    };
  };
  return {
    type: 'multiagent_20261001',
    advisor: body.advisor === undefined ? stored.advisor : body.advisor,
    subagents: member('subagents'),
    workflows: member('workflows'),
  };
}

export async function normalizeMultiagent(
  pool: pg.Pool,
  tenantId: string,
  sent: MultiagentBody,
  stored?: StoredMultiagent,
): Promise<StoredMultiagent> {
  const body = mergeOver(stored, sent);
  if (body.type === 'coordinator') return normalizeCoordinator(pool, tenantId, body);
  const normalized: Stored20261001 = {
    type: 'multiagent_20261001',
    advisor: body.advisor?.type === 'enabled' ? { type: 'enabled', model: body.advisor.model } : { type: 'disabled' },
    subagents: await normalizeMember(pool, tenantId, body.subagents, 'subagents'),
    workflows: await normalizeMember(pool, tenantId, body.workflows, 'workflows'),
  };
  return normalized;
}

/** The roster agents of either form (both lists of `multiagent_20261001`, once each). */
function rosterAgentsOf(config: StoredMultiagent): StoredRosterAgent[] {
  const entries =
    config.type === 'coordinator'
      ? config.agents
      : [config.subagents, config.workflows].flatMap((member) =>
          member.type === 'enabled' ? member.predefined_agents : [],
        );
  const seen = new Set<string>();
  return entries.flatMap((entry) => {
    if (entry.type === 'advisor') return [];
    const key = entry.type === 'self' ? 'self' : `${entry.id}@${entry.version}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [entry];
  });
}

/**
 * The roster a session pins: each agent's full definition (`self`: this agent, without its own roster), the advisor,
 * and which of delegation and workflow runs are off. Both lists of `multiagent_20261001` pin as one roster: an agent
 * in either may be delegated to and named in a plan (README, *Threads*).
 */
export async function pinMultiagent(
  pool: pg.Pool,
  tenantId: string,
  record: AgentRecord & { multiagent: StoredMultiagent },
  pin: (record: AgentRecord) => Promise<AgentSnapshot>,
): Promise<MultiagentSnapshot> {
  const agents: AgentSnapshot[] = [];
  for (const entry of rosterAgentsOf(record.multiagent)) {
    const target =
      entry.type === 'self'
        ? { ...record, multiagent: undefined }
        : await getAgent(pool, tenantId, entry.id, entry.version);
    if (!target) throw invalidRequest(`multiagent: agent ${entry.type === 'agent' ? entry.id : 'self'} not found`);
    agents.push(await pin(target));
  }
  const snapshot: MultiagentSnapshot = { type: 'coordinator', agents };
  const config = record.multiagent;
  if (config.type === 'coordinator') {
    const advisor = config.agents.find((entry) => entry.type === 'advisor');
    if (advisor?.type === 'advisor') snapshot.advisor = { model: advisor.model };
    return snapshot;
  }
  if (config.advisor.type === 'enabled') snapshot.advisor = { model: config.advisor.model };
  if (config.subagents.type === 'disabled') snapshot.subagents = false;
  else if (config.subagents.inline_agents.type === 'enabled') snapshot.inline_agents = true;
  if (config.workflows.type === 'disabled') snapshot.workflow_runs = false;
  return snapshot;
}
