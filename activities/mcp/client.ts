// One connection to an MCP server over HTTP: streamable HTTP first, the older HTTP+SSE transport when the server
// answers the streamable POST with 400/404/405 (the MCP specification's backwards-compatibility rule). Every request
// goes through the URL guard's fetch and carries the bearer token, added here and nowhere else. The connection
// notes what happened on the wire — a 401/403, and whether a tools/call request left this process — so the caller
// can tell an expired token from a dead server, and a call that never started from one that may have run.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpToolInfo } from '../../domain/contracts/mcp-activity.ts';

export interface WireNotes {
  /** The last HTTP status the server answered with. */
  lastStatus?: number;
  unauthorized: boolean;
  /** A tools/call request was handed to the network (it may have run, even if no answer came). */
  callDispatched: boolean;
}

const connectErrorCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether an error means the request never reached the server (refused, unresolvable, or refused by the guard). */
export function neverReached(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const record = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof record.code === 'string' && connectErrorCodes.has(record.code)) return true;
    if (record.name === 'UrlRefusedError') return true;
    current = record.cause;
  }
  return false;
}

function noteTaking(baseFetch: typeof fetch, token: string | undefined, notes: WireNotes): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    const isCall = typeof init?.body === 'string' && init.body.includes('"tools/call"');
    if (isCall) notes.callDispatched = true;
    try {
      const response = await baseFetch(input, { ...init, headers });
      notes.lastStatus = response.status;
      if (response.status === 401 || response.status === 403) notes.unauthorized = true;
      return response;
    } catch (error) {
      if (isCall && neverReached(error)) notes.callDispatched = false;
      throw error;
    }
  };
}

export const newWireNotes = (): WireNotes => ({ unauthorized: false, callDispatched: false });

export interface McpConnection {
  client: Client;
  notes: WireNotes;
  close(): Promise<void>;
}

export async function connectMcp(
  url: string,
  options: { token?: string; fetch: typeof fetch; timeoutMs: number; notes?: WireNotes },
): Promise<McpConnection> {
  // The caller's notes, so that what happened on the wire is known even when connecting fails.
  const notes: WireNotes = options.notes ?? newWireNotes();
  const fetchWithAuth = noteTaking(options.fetch, options.token, notes);
  const requestOptions = { timeout: options.timeoutMs };
  const streamable = new Client({ name: 'temporal-managed-agents', version: '0.1.0' });
  try {
    await streamable.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: fetchWithAuth }), requestOptions);
    return { client: streamable, notes, close: () => streamable.close() };
  } catch (error) {
    await streamable.close().catch(() => undefined);
    if (![400, 404, 405].includes(notes.lastStatus ?? 0)) throw error;
  }
  const legacy = new Client({ name: 'temporal-managed-agents', version: '0.1.0' });
  await legacy.connect(new SSEClientTransport(new URL(url), { fetch: fetchWithAuth }), requestOptions);
  return { client: legacy, notes, close: () => legacy.close() };
}

export async function listAllTools(client: Client, timeoutMs: number): Promise<McpToolInfo[]> {
  const tools: McpToolInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {}, { timeout: timeoutMs });
    for (const tool of page.tools) {
      tools.push({
        name: tool.name,
        description: tool.description ?? '',
        inputSchema: tool.inputSchema,
        readOnly: tool.annotations?.readOnlyHint === true,
        destructive: tool.annotations?.destructiveHint === true,
      });
    }
    cursor = page.nextCursor;
  } while (cursor && tools.length < 1000);
  return tools;
}

/** A tools/call result's content as the text the model reads (non-text blocks named, not inlined). */
export function contentText(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .map((block: { type?: string; text?: string; resource?: { uri?: string; text?: string } }) => {
      if (block.type === 'text') return block.text ?? '';
      if (block.type === 'resource') return block.resource?.text ?? `[resource ${block.resource?.uri ?? ''}]`;
      if (block.type === 'resource_link') return `[resource link]`;
      return `[${block.type ?? 'unknown'} content]`;
    })
    .join('\n');
}
