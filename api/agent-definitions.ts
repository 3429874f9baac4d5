// Turns agent request bodies into stored definitions (defaults resolved, as Anthropic returns them) and stored
// agents into the snapshot a session pins (roster agents resolved to their own pinned snapshots). The `sub_agent` tool
// is retired in favour of `multiagent` (session threads): refused on create and update, and a session cannot pin an
// agent version stored with one (README, *Session threads*). Workflows started with one directly and recorded
// histories still run the old child-session path (workflows/tool-execution.ts).
import type pg from 'pg';
import type { AgentModel, AgentSnapshot, AgentTool, JsonObjectSchema, PermissionPolicy } from '../domain/agent.ts';
import { type AgentDefinition, type AgentRecord, type StoredAgentTool } from '../db/repositories/agents.ts';
import { invalidRequest, type ApiError } from './errors.ts';
import { pinSkills, resolveSkills } from './agent-skills.ts';
import { normalizeMultiagent, pinMultiagent } from './multiagent-config.ts';
import type { AgentCreateBody, AgentToolBody, AgentUpdateBody } from './schemas/agents.ts';

/** The 400 for the retired `sub_agent` tool, which says what to use instead. */
export const retiredSubAgentTool = (where: string): ApiError =>
  invalidRequest(
    `${where}: the sub_agent tool is retired; give the agent a multiagent config instead ` +
      `({"type": "coordinator", "agents": [...]}): it delegates to those agents as session threads`,
  );

function normalizeModel(model: AgentCreateBody['model']): AgentModel {
  if (typeof model === 'string') return { id: model };
  const normalized: AgentModel = { id: model.id };
  if (model.speed) normalized.speed = model.speed;
  if (model.provider) normalized.provider = model.provider;
  if (model.base_url) normalized.base_url = model.base_url;
  return normalized;
}

const policyOf = (policy: PermissionPolicy | null | undefined, fallback: PermissionPolicy): PermissionPolicy =>
  policy ?? fallback;

const withoutNulls = (schema: Record<string, unknown>): JsonObjectSchema =>
  Object.fromEntries(Object.entries(schema).filter(([, value]) => value !== null)) as JsonObjectSchema;

function normalizeTool(tool: AgentToolBody): StoredAgentTool {
  switch (tool.type) {
    case 'agent_toolset_20260401': {
      const enabled = tool.default_config?.enabled ?? true;
      const permission = policyOf(tool.default_config?.permission_policy, { type: 'always_allow' });
      return {
        type: tool.type,
        default_config: { enabled, permission_policy: permission },
        configs: (tool.configs ?? []).map((config) => ({
          name: config.name,
          type: config.name,
          enabled: config.enabled ?? enabled,
          permission_policy: policyOf(config.permission_policy, permission),
        })),
      };
    }
    case 'mcp_toolset': {
      // MCP tools ask by default: they act on systems outside the platform.
      const enabled = tool.default_config?.enabled ?? true;
      const permission = policyOf(tool.default_config?.permission_policy, { type: 'always_ask' });
      return {
        type: tool.type,
        mcp_server_name: tool.mcp_server_name,
        default_config: { enabled, permission_policy: permission },
        configs: (tool.configs ?? []).map((config) => ({
          name: config.name,
          enabled: config.enabled ?? enabled,
          permission_policy: policyOf(config.permission_policy, permission),
        })),
      };
    }
    case 'custom':
    case 'backend':
      return { ...tool, input_schema: withoutNulls(tool.input_schema) };
    case 'sub_agent':
      throw retiredSubAgentTool(`tool ${tool.name}`);
  }
}

function normalizeTools(tools: AgentToolBody[]): StoredAgentTool[] {
  const names = new Set<string>();
  const normalized: StoredAgentTool[] = [];
  for (const tool of tools) {
    if (tool.type !== 'agent_toolset_20260401' && tool.type !== 'mcp_toolset') {
      if (names.has(tool.name)) throw invalidRequest(`duplicate tool name ${tool.name}`);
      names.add(tool.name);
    }
    normalized.push(normalizeTool(tool));
  }
  return normalized;
}

/** Server names are unique, every mcp_toolset names one server, and every server has exactly one toolset. */
function checkMcpReferences(definition: AgentDefinition): void {
  const servers = new Set<string>();
  for (const server of definition.mcp_servers) {
    if (servers.has(server.name)) throw invalidRequest(`duplicate MCP server name ${server.name}`);
    servers.add(server.name);
  }
  const referenced = new Set<string>();
  for (const tool of definition.tools) {
    if (tool.type !== 'mcp_toolset') continue;
    if (!servers.has(tool.mcp_server_name)) {
      throw invalidRequest(`mcp_toolset names ${tool.mcp_server_name}, which is not in mcp_servers`);
    }
    if (referenced.has(tool.mcp_server_name)) {
      throw invalidRequest(`more than one mcp_toolset for MCP server ${tool.mcp_server_name}`);
    }
    referenced.add(tool.mcp_server_name);
  }
  const unreferenced = [...servers].find((name) => !referenced.has(name));
  if (unreferenced) throw invalidRequest(`MCP server ${unreferenced} is not referenced by an mcp_toolset`);
}

export async function definitionFromCreate(
  pool: pg.Pool,
  tenantId: string,
  body: AgentCreateBody,
): Promise<AgentDefinition> {
  const definition: AgentDefinition = {
    name: body.name,
    description: body.description || null,
    system: body.system || null,
    model: normalizeModel(body.model),
    tools: normalizeTools(body.tools ?? []),
    mcp_servers: body.mcp_servers ?? [],
    skills: await resolveSkills(pool, tenantId, body.skills ?? []),
    metadata: body.metadata ?? {},
  };
  if (body.limits) definition.limits = body.limits;
  if (body.multiagent) definition.multiagent = await normalizeMultiagent(pool, tenantId, body.multiagent);
  if (body.harness) definition.harness = body.harness;
  checkMcpReferences(definition);
  return definition;
}

/** The definition part of a stored agent (what a version row holds). */
export function definitionOf(record: AgentRecord): AgentDefinition {
  const {
    id: _id,
    type: _type,
    version: _version,
    created_at: _c,
    updated_at: _u,
    archived_at: _a,
    ...definition
  } = record;
  return definition;
}

/** The update's changes applied to `current`: omitted fields keep their value, arrays are replaced whole. */
export async function applyUpdate(
  pool: pg.Pool,
  tenantId: string,
  current: AgentDefinition,
  body: AgentUpdateBody,
  patchMetadata: (
    current: Record<string, string>,
    patch: Record<string, string | null> | null | undefined,
  ) => Record<string, string>,
): Promise<AgentDefinition> {
  const next: AgentDefinition = { ...current };
  if (body.name !== undefined) next.name = body.name;
  if (body.model !== undefined) next.model = normalizeModel(body.model);
  if (body.description !== undefined) next.description = body.description || null;
  if (body.system !== undefined) next.system = body.system || null;
  if (body.tools !== undefined) next.tools = normalizeTools(body.tools ?? []);
  if (body.mcp_servers !== undefined) next.mcp_servers = body.mcp_servers ?? [];
  if (body.skills !== undefined) next.skills = await resolveSkills(pool, tenantId, body.skills ?? []);
  if (body.metadata !== undefined) next.metadata = patchMetadata(current.metadata, body.metadata);
  if (body.limits !== undefined) {
    if (body.limits === null) delete next.limits;
    else next.limits = body.limits;
  }
  if (body.multiagent === null) delete next.multiagent;
  else if (body.multiagent) {
    next.multiagent = await normalizeMultiagent(pool, tenantId, body.multiagent, current.multiagent);
  }
  if (body.harness !== undefined) {
    if (body.harness === null) delete next.harness;
    else next.harness = body.harness;
  }
  checkMcpReferences(next);
  return next;
}

/** The snapshot a session pins: this version of the agent, with every roster agent pinned the same way. */
export async function pinAgent(
  pool: pg.Pool,
  tenantId: string,
  record: AgentRecord,
  depth = 0,
): Promise<AgentSnapshot> {
  const tools: AgentTool[] = [];
  for (const tool of record.tools) {
    if (tool.type === 'sub_agent') throw retiredSubAgentTool(`agent ${record.id} version ${record.version}`);
    tools.push(tool);
  }
  const snapshot: AgentSnapshot = {
    id: record.id,
    type: 'agent',
    version: record.version,
    name: record.name,
    description: record.description,
    system: record.system,
    model: record.model,
    tools,
    mcp_servers: record.mcp_servers,
    skills: await pinSkills(pool, tenantId, record.skills),
  };
  if (record.limits) snapshot.limits = record.limits;
  if (record.multiagent) {
    const pinned = { ...record, multiagent: record.multiagent };
    snapshot.multiagent = await pinMultiagent(pool, tenantId, pinned, (target) =>
      pinAgent(pool, tenantId, target, depth + 1),
    );
  }
  if (record.harness) snapshot.harness = record.harness;
  return snapshot;
}
