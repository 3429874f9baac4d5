// Tenant-supplied URLs checked when they are configured: a literal or resolved private, loopback or metadata address
// is a 400 (unless allow-listed). A name that does not resolve from the API is accepted here; the activity that
// calls it checks again, at connect time.
import { UrlRefusedError, type UrlGuard } from '../net/url-guard.ts';
import { invalidRequest } from './errors.ts';

export async function assertTenantUrl(guard: UrlGuard, url: string, field: string): Promise<void> {
  try {
    await guard.check(url, { allowUnresolvable: true });
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
  for (const [index, server] of (body.mcp_servers ?? []).entries()) {
    await assertTenantUrl(guard, server.url, `mcp_servers[${index}].url`);
  }
}
