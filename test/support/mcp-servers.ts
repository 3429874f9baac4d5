// Real MCP servers on loopback for tests, built with @modelcontextprotocol/sdk's server classes (streamable HTTP,
// stateless: a server and transport per request), behind a bearer check of the test's; and an OAuth token endpoint
// (refresh-token grant, rotating refresh tokens, the three client authentications) that can expire the access token.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface TestMcpServer {
  url: string;
  /** Every Authorization header the server received (accepted or not). */
  authorizations: string[];
  /** Tool calls received, by tool name. */
  calls: Array<{ name: string; args: Record<string, unknown> }>;
  /** Names of tool calls that are waiting (the `hang` tool). */
  hanging: string[];
  /** Closes the listener and every open connection, mid-call included. */
  kill(): Promise<void>;
}

/** `accepts(token)` decides each request; tools: lookup_ticket (read-only), close_ticket (destructive), hang. */
export async function startMcpServer(label: string, accepts: (token: string | undefined) => boolean) {
  const authorizations: string[] = [];
  const calls: TestMcpServer['calls'] = [];
  const hanging: string[] = [];
  const build = () => {
    const server = new McpServer({ name: label, version: '1.0.0' });
    server.registerTool(
      'lookup_ticket',
      {
        description: `Looks a ticket up in ${label}.`,
        inputSchema: { id: z.string() },
        annotations: { readOnlyHint: true },
      },
      async ({ id }) => {
        calls.push({ name: 'lookup_ticket', args: { id } });
        return { content: [{ type: 'text', text: `${label}: ticket ${id} is open` }] };
      },
    );
    server.registerTool(
      'close_ticket',
      { description: 'Closes a ticket.', inputSchema: { id: z.string() }, annotations: { destructiveHint: true } },
      async ({ id }) => {
        calls.push({ name: 'close_ticket', args: { id } });
        return { content: [{ type: 'text', text: `${label}: ticket ${id} closed` }] };
      },
    );
    server.registerTool('hang', { description: 'Never answers.', inputSchema: {} }, async () => {
      calls.push({ name: 'hang', args: {} });
      hanging.push(randomUUID());
      return new Promise(() => undefined);
    });
    return server;
  };
  const http = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const authorization = request.headers.authorization;
      if (authorization) authorizations.push(authorization);
      const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
      const body = await readBody(request);
      if (!accepts(token)) {
        response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
        response.end(JSON.stringify({ error: 'invalid_token' }));
        return;
      }
      const server = build();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      response.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request, response, body === '' ? undefined : JSON.parse(body));
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  const url = `${await listen(http)}/mcp`;
  return {
    url,
    authorizations,
    calls,
    hanging,
    async kill() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  } satisfies TestMcpServer;
}

export type ClientAuthentication = 'none' | 'client_secret_basic' | 'client_secret_post';

export interface TestTokenEndpoint {
  url: string;
  clientId: string;
  clientSecret: string;
  /** The currently valid access token (what the MCP server accepts). */
  accessToken: string;
  refreshToken: string;
  /** Every refresh request: how the client authenticated and whether it was granted. */
  refreshes: Array<{ authentication: ClientAuthentication | 'wrong'; granted: boolean }>;
  /** Invalidates the access token now (the MCP server then answers 401 until a refresh). */
  expire(): void;
  /** Every token value ever issued (for secret scans). */
  issued: string[];
  close(): Promise<void>;
}

/** A token endpoint for one client and one grant; it accepts only the expected client authentication. */
export async function startTokenEndpoint(authentication: ClientAuthentication): Promise<TestTokenEndpoint> {
  const state = {
    clientId: `client-${randomUUID()}`,
    clientSecret: `client-secret-${randomUUID()}`,
    accessToken: `access-${randomUUID()}`,
    refreshToken: `refresh-${randomUUID()}`,
  };
  const issued = [state.clientSecret, state.accessToken, state.refreshToken];
  const refreshes: TestTokenEndpoint['refreshes'] = [];
  const http = createServer((request, response) => {
    void (async () => {
      const form = new URLSearchParams(await readBody(request));
      const basic = request.headers.authorization?.startsWith('Basic ')
        ? Buffer.from(request.headers.authorization.slice(6), 'base64').toString('utf8')
        : undefined;
      const used: ClientAuthentication | 'wrong' = basic
        ? basic === `${state.clientId}:${state.clientSecret}`
          ? 'client_secret_basic'
          : 'wrong'
        : form.get('client_secret')
          ? form.get('client_secret') === state.clientSecret && form.get('client_id') === state.clientId
            ? 'client_secret_post'
            : 'wrong'
          : form.get('client_id') === state.clientId
            ? 'none'
            : 'wrong';
      const granted =
        used === authentication &&
        form.get('grant_type') === 'refresh_token' &&
        form.get('refresh_token') === state.refreshToken;
      refreshes.push({ authentication: used, granted });
      response.setHeader('content-type', 'application/json');
      if (!granted) {
        response.writeHead(400).end(JSON.stringify({ error: 'invalid_grant' }));
        return;
      }
      state.accessToken = `access-${randomUUID()}`;
      state.refreshToken = `refresh-${randomUUID()}`;
      issued.push(state.accessToken, state.refreshToken);
      response.end(
        JSON.stringify({
          access_token: state.accessToken,
          token_type: 'Bearer',
          expires_in: 3600,
          refresh_token: state.refreshToken,
        }),
      );
    })();
  });
  const url = `${await listen(http)}/token`;
  return {
    url,
    get clientId() {
      return state.clientId;
    },
    get clientSecret() {
      return state.clientSecret;
    },
    get accessToken() {
      return state.accessToken;
    },
    get refreshToken() {
      return state.refreshToken;
    },
    refreshes,
    issued,
    expire() {
      state.accessToken = `expired-${randomUUID()}`;
    },
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * A server that speaks only the older HTTP+SSE transport (GET the URL for the event stream, POST messages to the
 * endpoint it names) and answers 405 to a streamable-HTTP POST, as such servers do: the client must fall back.
 */
export async function startLegacySseMcpServer(label: string, accepts: (token: string | undefined) => boolean) {
  const authorizations: string[] = [];
  const transports = new Map<string, SSEServerTransport>();
  const http = createServer((request, response) => {
    void (async () => {
      const authorization = request.headers.authorization;
      if (authorization) authorizations.push(authorization);
      if (!accepts(authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined)) {
        response.writeHead(401).end();
        return;
      }
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (request.method === 'GET' && url.pathname === '/sse') {
        const transport = new SSEServerTransport('/messages', response);
        transports.set(transport.sessionId, transport);
        const server = new McpServer({ name: label, version: '1.0.0' });
        server.registerTool(
          'lookup_ticket',
          { description: 'Looks a ticket up.', inputSchema: { id: z.string() } },
          ({ id }) => ({
            content: [{ type: 'text', text: `${label}: ticket ${id} is open` }],
          }),
        );
        await server.connect(transport);
        return;
      }
      if (request.method === 'POST' && url.pathname === '/messages') {
        const transport = transports.get(url.searchParams.get('sessionId') ?? '');
        if (!transport) return void response.writeHead(404).end();
        await transport.handlePostMessage(request, response, JSON.parse(await readBody(request)));
        return;
      }
      response.writeHead(405).end(); // the streamable-HTTP POST to /sse
    })();
  });
  const url = `${await listen(http)}/sse`;
  return {
    url,
    authorizations,
    async kill() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
