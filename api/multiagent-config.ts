// The agent's `multiagent` config (Anthropic's coordinator topology): checked and stored with every roster entry
// resolved to a version, and pinned into a session's agent snapshot as full agent definitions. The API's rules: 1–20
// entries, distinct agents (after resolving `self` and string forms), at most one `self`, every referenced agent
// existing and not archived, and none of them a coordinator itself (depth limit 1).
import type pg from 'pg';
import type { AgentSnapshot } from '../domain/agent.ts';
import { getAgent, type AgentRecord, type StoredMultiagent } from '../db/repositories/agents.ts';
import { invalidRequest } from './errors.ts';
import type { MultiagentBody } from './schemas/agents.ts';

export async function normalizeMultiagent(
  pool: pg.Pool,
  tenantId: string,
  body: MultiagentBody,
  selfId?: string,
): Promise<StoredMultiagent> {
  const agents: StoredMultiagent['agents'] = [];
  const seen = new Set<string>();
  for (const entry of body.agents) {
    if (typeof entry !== 'string' && entry.type === 'self') {
      if (seen.has('self') || (selfId && seen.has(selfId))) throw invalidRequest('multiagent: `self` appears twice');
      seen.add('self');
      agents.push({ type: 'self' });
      continue;
    }
    const reference: { id: string; version?: number } = typeof entry === 'string' ? { id: entry } : entry;
    if (seen.has(reference.id) || (reference.id === selfId && seen.has('self'))) {
      throw invalidRequest(`multiagent: agent ${reference.id} appears twice in the roster`);
    }
    seen.add(reference.id);
    const target = await getAgent(pool, tenantId, reference.id, reference.version);
    if (!target) throw invalidRequest(`multiagent: agent ${reference.id} not found`);
    if (target.archived_at) throw invalidRequest(`multiagent: agent ${reference.id} is archived`);
    if (target.multiagent) {
      throw invalidRequest(`multiagent: agent ${reference.id} is a coordinator itself (threads nest one level deep)`);
    }
    agents.push({ type: 'agent', id: target.id, version: target.version });
  }
  return { type: 'coordinator', agents };
}

/** The roster a session pins: each entry's full definition (`self`: this agent, without its own roster). */
export async function pinRoster(
  pool: pg.Pool,
  tenantId: string,
  record: AgentRecord,
  pin: (record: AgentRecord) => Promise<AgentSnapshot>,
): Promise<AgentSnapshot[]> {
  const roster: AgentSnapshot[] = [];
  for (const entry of record.multiagent?.agents ?? []) {
    const target =
      entry.type === 'self'
        ? { ...record, multiagent: undefined }
        : await getAgent(pool, tenantId, entry.id, entry.version);
    if (!target) throw invalidRequest(`multiagent: agent ${entry.type === 'agent' ? entry.id : 'self'} not found`);
    roster.push(await pin(target));
  }
  return roster;
}
