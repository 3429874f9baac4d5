// MCP tools as the session offers them: the tools each server listed (discovered once per session, cached in the
// workflow), filtered and configured by the agent's `mcp_toolset`s. Pure: the workflow routes with it.
import type { AgentSnapshot, McpServerDefinition, McpToolset, PermissionPolicy } from '../agent.ts';
import type { McpToolInfo } from '../contracts/mcp-activity.ts';
import type { ToolEvaluation } from '../events.ts';
import type { ToolSpec } from '../model.ts';

/** The tools each MCP server listed, by server name (servers whose listing failed are absent). */
export type McpCatalog = Record<string, McpToolInfo[]>;

export interface McpToolEntry {
  /** The name the model calls: the MCP tool's name, or `<server>__<tool>` when that name is already taken. */
  modelName: string;
  server: McpServerDefinition;
  tool: McpToolInfo;
  policy: PermissionPolicy['type'];
}

const modelToolName = /^[A-Za-z0-9_-]{1,128}$/;

export function mcpToolsets(agent: AgentSnapshot): McpToolset[] {
  return agent.tools.filter((tool): tool is McpToolset => tool.type === 'mcp_toolset');
}

/** The MCP servers the agent's toolsets use, in mcp_servers order. */
export function mcpServersInUse(agent: AgentSnapshot): McpServerDefinition[] {
  const used = new Set(mcpToolsets(agent).map((toolset) => toolset.mcp_server_name));
  return agent.mcp_servers.filter((server) => used.has(server.name));
}

/** The enabled MCP tools, named so that no two tools (MCP or not) share a name. */
export function mcpToolEntries(agent: AgentSnapshot, catalog: McpCatalog, takenNames: Set<string>): McpToolEntry[] {
  const taken = new Set(takenNames);
  const entries: McpToolEntry[] = [];
  for (const toolset of mcpToolsets(agent)) {
    const server = agent.mcp_servers.find((candidate) => candidate.name === toolset.mcp_server_name);
    if (!server) continue;
    for (const tool of catalog[server.name] ?? []) {
      const config = toolset.configs.find((entry) => entry.name === tool.name);
      if (!(config?.enabled ?? toolset.default_config.enabled)) continue;
      let modelName = tool.name;
      if (taken.has(modelName) || !modelToolName.test(modelName)) {
        modelName = `${server.name}__${tool.name}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128);
      }
      if (taken.has(modelName)) continue;
      taken.add(modelName);
      const policy = (config?.permission_policy ?? toolset.default_config.permission_policy).type;
      entries.push({ modelName, server, tool, policy });
    }
  }
  return entries;
}

export const mcpToolSpec = (entry: McpToolEntry): ToolSpec => ({
  name: entry.modelName,
  description: entry.tool.description || `${entry.tool.name} (from the ${entry.server.name} MCP server)`,
  inputSchema: entry.tool.inputSchema,
});

/**
 * The permission a call gets. `auto` is decided here from the server's own annotations: a tool that declares itself
 * read-only (and not destructive) runs; anything else is held for the client (`ask`, reason `indeterminate`).
 */
export function evaluateMcpPermission(entry: McpToolEntry): {
  permission: 'allow' | 'ask';
  evaluation: ToolEvaluation;
} {
  switch (entry.policy) {
    case 'always_allow':
      return { permission: 'allow', evaluation: { type: 'always_allow' } };
    case 'always_ask':
      return { permission: 'ask', evaluation: { type: 'always_ask' } };
    case 'auto':
      return entry.tool.readOnly && !entry.tool.destructive
        ? { permission: 'allow', evaluation: { type: 'auto', evaluated_permission: { type: 'allow' } } }
        : {
            permission: 'ask',
            evaluation: { type: 'auto', evaluated_permission: { type: 'ask', reason_code: 'indeterminate' } },
          };
  }
}
