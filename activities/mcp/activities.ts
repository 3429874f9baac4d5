// The MCP activities, on their own task queue (`agents-mcp`, workers/mcp-worker.ts): list a server's tools (once per
// session; the workflow caches the list) and call one. The server's credential is resolved here, from the session's
// vaults, and never leaves: not in the input, the result, an error message or a log line. Tool output and error text
// are scrubbed of the credential's values. Failures are typed for the workflow: a server that cannot be reached is
// retried; a rejected credential (after one refresh) or a call that failed after it was sent is not.
import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { SecretBox } from '../../db/repositories/secret-box.ts';
import type {
  CallMcpToolInput,
  CallMcpToolResult,
  ListMcpToolsResult,
  McpCallerContext,
} from '../../domain/contracts/mcp-activity.ts';
import { ErrorCode, PlatformError } from '../../domain/errors.ts';
import type { UrlGuard } from '../../net/url-guard.ts';
import { toApplicationFailure } from '../failures.ts';
import { connectMcp, contentText, listAllTools, newWireNotes, type McpConnection } from './client.ts';
import { McpCredentials, isExpired, secretValues, tokenOf, type McpRefreshOutcome } from './credentials.ts';
import { errorText, scrub } from './oauth-refresh.ts';

export interface McpActivityDeps {
  pool: pg.Pool;
  secretBox: SecretBox;
  urlGuard: UrlGuard;
  /** Timeout of the connection handshake and of tools/list (ms). */
  requestTimeoutMs?: number;
}

/** A refresh that did not produce a token, in words without secrets. */
export function describeRefresh(outcome: McpRefreshOutcome): string {
  switch (outcome.status) {
    case 'succeeded':
      return 'the refreshed token was rejected too';
    case 'no_refresh_token':
      return 'the credential has no refresh token';
    case 'connect_error':
      return `the token endpoint could not be reached (${outcome.message})`;
    case 'failed':
      return `the token endpoint answered HTTP ${outcome.response.status_code}: ${outcome.response.body.slice(0, 200)}`;
  }
}

export function createMcpActivities(deps: McpActivityDeps) {
  const credentials = new McpCredentials(deps);
  const requestTimeoutMs = deps.requestTimeoutMs ?? 30_000;

  /** Runs `work` on a connection carrying the server's credential; one refresh-and-retry on a rejected token. */
  async function withConnection<T>(
    context: McpCallerContext,
    timeoutMs: number,
    work: (connection: McpConnection, secrets: string[]) => Promise<T>,
  ): Promise<T> {
    const name = context.server.name;
    let credential = await credentials.find(context);
    let refreshed: McpRefreshOutcome | undefined;
    if (credential?.auth.type === 'mcp_oauth' && isExpired(credential)) {
      const result = await credentials.refresh(context.tenantId, credential, tokenOf(credential));
      refreshed = result.outcome;
      credential = result.credential;
      if (refreshed.status !== 'succeeded')
        throw authFailure(name, `its token expired and ${describeRefresh(refreshed)}`);
    }
    const secrets = () => secretValues(credential);
    for (let attempt = 1; ; attempt++) {
      let connection: McpConnection | undefined;
      const notes = newWireNotes();
      const activity = Context.current();
      const heartbeat = setInterval(() => activity.heartbeat(), 2_000);
      try {
        connection = await connectMcp(context.server.url, {
          token: credential ? tokenOf(credential) : undefined,
          fetch: deps.urlGuard.fetch,
          timeoutMs: Math.min(timeoutMs, requestTimeoutMs),
          notes,
        });
        return await work(connection, secrets());
      } catch (error) {
        if (!notes.unauthorized) throw classify(name, error, notes.callDispatched, secrets());
        if (credential?.auth.type !== 'mcp_oauth' || attempt > 1) {
          throw authFailure(name, refreshed ? describeRefresh(refreshed) : 'the server rejected the credential');
        }
        const result = await credentials.refresh(context.tenantId, credential, tokenOf(credential));
        refreshed = result.outcome;
        credential = result.credential;
        if (refreshed.status !== 'succeeded') {
          throw authFailure(name, `the server rejected the token and ${describeRefresh(refreshed)}`);
        }
      } finally {
        clearInterval(heartbeat);
        await connection?.close().catch(() => undefined);
      }
    }
  }

  return {
    async listMcpTools(input: McpCallerContext): Promise<ListMcpToolsResult> {
      return withConnection(input, requestTimeoutMs, async (connection) => ({
        tools: await listAllTools(connection.client, requestTimeoutMs),
      }));
    },

    async callMcpTool(input: CallMcpToolInput): Promise<CallMcpToolResult> {
      return withConnection(input, input.timeoutMs, async (connection, secrets) => {
        const result = await connection.client.callTool({ name: input.toolName, arguments: input.input }, undefined, {
          timeout: input.timeoutMs,
          signal: Context.current().cancellationSignal,
        });
        const structured = result.structuredContent ? JSON.stringify(result.structuredContent) : '';
        return { content: scrub(contentText(result.content) || structured, secrets), isError: result.isError === true };
      });
    },
  };
}

export type McpActivities = ReturnType<typeof createMcpActivities>;

function authFailure(server: string, reason: string): ApplicationFailure {
  return toApplicationFailure(
    new PlatformError(ErrorCode.mcpAuthenticationFailed, `MCP server ${server}: authentication failed: ${reason}`),
  );
}

function classify(server: string, error: unknown, callDispatched: boolean, secrets: string[]): ApplicationFailure {
  const detail = scrub(errorText(error), secrets);
  if (!callDispatched) {
    // Nothing ran on the server: safe to try again (Temporal's retry policy), then the workflow reports it.
    return toApplicationFailure(
      new PlatformError(ErrorCode.mcpConnectionFailed, `MCP server ${server} could not be reached: ${detail}`, {
        retryable: true,
      }),
    );
  }
  return toApplicationFailure(
    new PlatformError(
      ErrorCode.mcpCallFailed,
      `MCP server ${server}: the call failed after it was sent (it may have run): ${detail}`,
    ),
  );
}
