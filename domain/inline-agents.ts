// Inline agents (Anthropic's multiagent `inline_agents`): an agent the coordinator defines itself when it spawns a
// session thread, not saved. Our shape of the definition (the API does not publish its tool): a name, an optional
// description and system prompt, a model and tools — chosen only from what the coordinator already has, so an inline
// agent never has a tool, a permission or a model endpoint its coordinator lacks. The thread runs the resulting
// snapshot; the threads API shows the definition as the API's `BetaManagedAgentsInlineAgent` (`type: "inline"`).
import { z } from 'zod';
import type { AgentModel, AgentSnapshot, AgentTool, McpToolset } from './agent.ts';
import { isSandboxToolName } from './sandbox.ts';
import { enabledSandboxTools } from './tools/sandbox-tools.ts';

/** The definition the coordinator's model writes (validated like an agent's create, bounded like it). */
export const inlineAgentInput = z.object({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, 'letters, digits, space, _ . - (starting with a letter or digit)')
    .describe('A name for the agent, distinct from your listed agents.'),
  description: z.string().max(2048).optional().describe('What the agent is for (optional).'),
  system: z.string().max(100_000).optional().describe("The agent's system prompt (optional)."),
  model: z.string().min(1).max(256).optional().describe('One of the models listed above (default: yours).'),
  tools: z
    .array(z.string().min(1).max(256))
    .max(64)
    .optional()
    .describe('Names of your own tools the agent may use (default: all of them; [] for none).'),
});
export type InlineAgentInput = z.infer<typeof inlineAgentInput>;

/** An inline agent as a thread shows it: the definition, without an agent id or version. */
export type InlineAgentView = Omit<AgentSnapshot, 'type' | 'id' | 'version' | 'multiagent' | 'harness'> & {
  type: 'inline';
};

/** Whether the coordinator may define inline agents when it delegates. */
export const inlineAgentsEnabled = (agent: AgentSnapshot): boolean =>
  agent.multiagent !== undefined && agent.multiagent.subagents !== false && agent.multiagent.inline_agents === true;

/** The models an inline agent may run: the coordinator's own and its roster agents' (each with its endpoint). */
export function inlineAgentModels(coordinator: AgentSnapshot): Map<string, AgentModel> {
  const models = new Map<string, AgentModel>([[coordinator.model.id, coordinator.model]]);
  for (const agent of coordinator.multiagent?.agents ?? [])
    if (!models.has(agent.model.id)) models.set(agent.model.id, agent.model);
  return models;
}

/** The coordinator's tools an inline agent may be given, by name: sandbox tools, custom and backend tools, MCP servers. */
export function inlineAgentToolNames(coordinator: AgentSnapshot): string[] {
  const names: string[] = [...enabledSandboxTools(coordinator.tools).keys()];
  for (const tool of coordinator.tools) {
    if (tool.type === 'custom' || tool.type === 'backend') names.push(tool.name);
    else if (tool.type === 'mcp_toolset') names.push(`mcp:${tool.mcp_server_name}`);
  }
  return names;
}

export type InlineAgentResult =
  { ok: true; agent: AgentSnapshot; view: InlineAgentView } | { ok: false; message: string };

/**
 * The snapshot a thread of an inline agent runs, or the sentence the coordinator's model reads when the definition
 * asks for what its coordinator does not have. Tools keep the coordinator's permission policies; the agent has no
 * roster (threads nest one level deep), no skills, and the coordinator's limits and id (it has no agent resource).
 */
export function resolveInlineAgent(coordinator: AgentSnapshot, definition: InlineAgentInput): InlineAgentResult {
  const roster = coordinator.multiagent?.agents ?? [];
  if (roster.some((agent) => agent.name === definition.name)) {
    return { ok: false, message: `An agent named "${definition.name}" is already listed; choose another name.` };
  }
  const models = inlineAgentModels(coordinator);
  const model = models.get(definition.model ?? coordinator.model.id);
  if (!model) {
    return {
      ok: false,
      message: `Model "${definition.model}" is not available to inline agents; use one of: ${[...models.keys()].join(', ')}.`,
    };
  }
  const allowed = inlineAgentToolNames(coordinator);
  const wanted = definition.tools ?? allowed;
  const refused = wanted.filter((name) => !allowed.includes(name));
  if (refused.length > 0) {
    const offer = allowed.length > 0 ? `one of: ${allowed.join(', ')}` : 'none (you have no tools to give)';
    return { ok: false, message: `Tools not available to inline agents: ${refused.join(', ')}; use ${offer}.` };
  }
  const tools = inlineTools(coordinator, new Set(wanted));
  const servers = new Set(tools.flatMap((tool) => (tool.type === 'mcp_toolset' ? [tool.mcp_server_name] : [])));
  const view: InlineAgentView = {
    type: 'inline',
    name: definition.name,
    description: definition.description ?? null,
    system: definition.system ?? null,
    model,
    tools,
    mcp_servers: coordinator.mcp_servers.filter((server) => servers.has(server.name)),
    skills: [],
    ...(coordinator.limits ? { limits: coordinator.limits } : {}),
  };
  const { type: _inline, ...definitionOnly } = view;
  const agent: AgentSnapshot = { ...definitionOnly, type: 'agent', id: coordinator.id, version: coordinator.version };
  return { ok: true, agent, view };
}

/** The coordinator's tools cut down to the chosen names, each with the coordinator's permission policy. */
function inlineTools(coordinator: AgentSnapshot, chosen: Set<string>): AgentTool[] {
  const tools: AgentTool[] = [];
  const sandbox = [...enabledSandboxTools(coordinator.tools)].filter(([name]) => chosen.has(name));
  // Always a toolset, all off by default, so no built-in tool is enabled by omission.
  tools.push({
    type: 'agent_toolset_20260401',
    default_config: { enabled: false },
    configs: sandbox.map(([name, policy]) => ({ name, enabled: true, permission_policy: { type: policy } })),
  });
  for (const tool of coordinator.tools) {
    if ((tool.type === 'custom' || tool.type === 'backend') && chosen.has(tool.name) && !isSandboxToolName(tool.name)) {
      tools.push(tool);
    } else if (tool.type === 'mcp_toolset' && chosen.has(`mcp:${tool.mcp_server_name}`)) {
      tools.push(tool satisfies McpToolset);
    }
  }
  return tools;
}
