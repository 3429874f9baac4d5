// The MCP activities' contract (activities/mcp/activities.ts implements them on the `agents-mcp` queue;
// workflows/mcp-tools.ts calls them). Inputs carry credential *locations* (tenant and vault ids), never secrets: the
// activity resolves the server's `static_bearer` or `mcp_oauth` credential itself.
import type { McpServerDefinition } from '../agent.ts';

/** Where the activity finds the server's credential: the session's tenant and vaults. */
export interface McpCallerContext {
  sessionId: string;
  tenantId: string;
  vaultIds: string[];
  server: McpServerDefinition;
}

/** A tool as the MCP server lists it (what the session caches and offers the model). */
export interface McpToolInfo {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** The server's hint that the tool only reads (MCP `annotations.readOnlyHint`): `auto` allows such calls. */
  readOnly: boolean;
  /** The server's hint that the tool may destroy data (`annotations.destructiveHint`). */
  destructive: boolean;
}

export interface ListMcpToolsResult {
  tools: McpToolInfo[];
}

export interface CallMcpToolInput extends McpCallerContext {
  /** The `agent.mcp_tool_use` event id. */
  toolUseId: string;
  toolName: string;
  input: Record<string, unknown>;
  /** How long one call may take before it is abandoned (ms). */
  timeoutMs: number;
}

export interface CallMcpToolResult {
  /** The tool's content as text (non-text blocks summarised); credential values redacted. */
  content: string;
  isError: boolean;
}
