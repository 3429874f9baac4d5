// Tenant-supplied URLs checked when they are configured: a literal or resolved private, loopback or metadata address
// is a 400 (unless allow-listed). A name that does not resolve from the API is accepted here; the activity that
// calls it checks again, at connect time — so a lookup is bounded here (a name still resolving after
// configLookupTimeoutMs counts as unresolved), and an agent's distinct hosts are looked up side by side.
import { UrlRefusedError, type UrlGuard } from '../net/url-guard.ts';
import { invalidRequest } from './errors.ts';

const configLookupTimeoutMs = 1_500;

export async function assertTenantUrl(guard: UrlGuard, url: string, field: string): Promise<void> {
  try {
    await guard.check(url, { allowUnresolvable: true, lookupTimeoutMs: configLookupTimeoutMs });
  } catch (error) {
    if (error instanceof UrlRefusedError) throw invalidRequest(`${field}: ${error.message}`);
    throw error;
  }
}

/** The URLs of an agent create/update body: the model's base_url and every MCP server's url. */
export async function assertAgentUrls(
  guard: UrlGuard,
  body: { model?: string | { base_url?: string } | null; mcp_servers?: Array<{ url: string }> | null },
): Promise<void> {
  if (body.model && typeof body.model === 'object' && body.model.base_url) {
    await assertTenantUrl(guard, body.model.base_url, 'model.base_url');
  }
  const firstIndexByUrl = new Map<string, number>();
  for (const [index, server] of (body.mcp_servers ?? []).entries()) {
    if (!firstIndexByUrl.has(server.url)) firstIndexByUrl.set(server.url, index);
  }
  await Promise.all(
    [...firstIndexByUrl].map(([url, index]) => assertTenantUrl(guard, url, `mcp_servers[${index}].url`)),
  );
}

/** The URLs an MCP credential will be used against: its server and its token endpoint. */
export async function assertCredentialUrls(
  guard: UrlGuard,
  auth: { type: string; mcp_server_url?: string; refresh?: { token_endpoint: string } | null },
): Promise<void> {
  if (auth.mcp_server_url) await assertTenantUrl(guard, auth.mcp_server_url, 'auth.mcp_server_url');
  if (auth.refresh?.token_endpoint) {
    await assertTenantUrl(guard, auth.refresh.token_endpoint, 'auth.refresh.token_endpoint');
  }
}
