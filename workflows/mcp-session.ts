// The session's MCP tools: discovered once per session (each server's tools/list, on the MCP queue; a server whose
// listing failed is asked again at the next turn), cached in workflow state and carried across continue-as-new, and
// called through the MCP activity. Every failure becomes something the model or the client can act on: an error tool
// result, and a `session.error` (mcp_connection_failed_error / mcp_authentication_failed_error) naming the server.
// New commands appear only in sessions whose agent has an mcp_toolset, which no earlier history can have (the API
// rejected mcp_toolset until now), so no patch marker is needed.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../domain/errors.ts';
import type { ToolSpec } from '../domain/model.ts';
import type { ToolOutcome } from '../domain/sandbox.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import {
  evaluateMcpPermission,
  mcpServersInUse,
  mcpToolEntries,
  mcpToolSpec,
  type McpCatalog,
  type McpToolEntry,
} from '../domain/tools/mcp-tools.ts';
import { defaultMcpToolTimeoutMs, mcpActivities } from './activity-proxies.ts';
import type { EventJournal } from './event-journal.ts';
import type { ToolCall } from './tool-execution.ts';

export class McpSessionTools {
  private catalog: McpCatalog | undefined;
  /** The enabled MCP tools of the current turn (routeTool's third argument). */
  entries: McpToolEntry[] = [];
  private readonly input: SessionWorkflowInput;
  private readonly journal: EventJournal;

  constructor(input: SessionWorkflowInput, journal: EventJournal) {
    this.input = input;
    this.journal = journal;
    this.catalog = input.carried?.mcpCatalog;
  }

  /** What continue-as-new carries. */
  get carried(): McpCatalog | undefined {
    return this.catalog;
  }

  /** The turn's tool list: `baseSpecs` plus the MCP tools, discovering the servers not listed yet. */
  async toolSpecs(baseSpecs: ToolSpec[]): Promise<ToolSpec[]> {
    const servers = mcpServersInUse(this.input.agent);
    if (servers.length === 0) return baseSpecs;
    const catalog: McpCatalog = { ...this.catalog };
    const missing = servers.filter((server) => catalog[server.name] === undefined);
    const listed = await Promise.all(
      missing.map(async (server) => {
        try {
          const { tools } = await this.activities().listMcpTools({ ...this.caller(), server });
          return [server.name, tools] as const;
        } catch (error) {
          this.reportServerError(server.name, error);
          return undefined;
        }
      }),
    );
    for (const entry of listed) if (entry) catalog[entry[0]] = entry[1];
    this.catalog = catalog;
    this.entries = mcpToolEntries(this.input.agent, catalog, new Set(baseSpecs.map((spec) => spec.name)));
    return [...baseSpecs, ...this.entries.map(mcpToolSpec)];
  }

  /** Emits the `agent.mcp_tool_use` event; says whether the call runs now or waits for the client. */
  announce(call: ToolCall, entry: McpToolEntry): 'allow' | 'ask' {
    const { permission, evaluation } = evaluateMcpPermission(entry);
    this.journal.emit({
      type: 'agent.mcp_tool_use',
      id: call.eventId,
      name: entry.tool.name,
      mcp_server_name: entry.server.name,
      input: call.input,
      evaluated_permission: permission,
      evaluation,
      ...(entry.modelName !== entry.tool.name ? { tool_name: entry.modelName } : {}),
    });
    return permission;
  }

  async run(call: ToolCall, entry: McpToolEntry): Promise<ToolOutcome> {
    try {
      const result = await this.activities().callMcpTool({
        ...this.caller(),
        server: entry.server,
        toolUseId: call.eventId,
        toolName: entry.tool.name,
        input: call.input,
        timeoutMs: this.input.settings.mcpToolTimeoutMs ?? defaultMcpToolTimeoutMs,
      });
      return { content: result.content || '(no output)', isError: result.isError };
    } catch (error) {
      const message = this.reportServerError(
        entry.server.name,
        error,
        failureTypeOf(error) === FailureType.mcpCallFailed,
      );
      return { content: `The ${entry.tool.name} tool failed: ${message}`, isError: true };
    }
  }

  /** A `session.error` for a server that failed (not for a call that failed after it was sent: the result says it). */
  private reportServerError(server: string, error: unknown, quiet = false): string {
    const type = failureTypeOf(error);
    const message = failureMessage(error);
    if (!quiet) {
      this.journal.emit({
        type: 'session.error',
        error: {
          type:
            type === FailureType.mcpAuthenticationFailed
              ? 'mcp_authentication_failed_error'
              : 'mcp_connection_failed_error',
          message,
          mcp_server_name: server,
          retry_status: { type: 'exhausted' },
        },
      });
    }
    return message;
  }

  private caller() {
    return { sessionId: this.input.sessionId, tenantId: this.input.tenantId, vaultIds: this.input.vaultIds };
  }

  private activities() {
    return mcpActivities(this.input.settings);
  }
}

function applicationFailureOf(error: unknown): ApplicationFailure | undefined {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) return error.cause;
  return error instanceof ApplicationFailure ? error : undefined;
}

const failureTypeOf = (error: unknown): string | undefined => applicationFailureOf(error)?.type ?? undefined;

function failureMessage(error: unknown): string {
  const failure = applicationFailureOf(error);
  if (failure) return failure.message;
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
