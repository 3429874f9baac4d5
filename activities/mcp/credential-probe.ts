// Live validation of an `mcp_oauth` credential (POST …/credentials/{id}/mcp_oauth_validate, Anthropic's
// `BetaManagedAgentsCredentialValidation`): initialize and tools/list against its MCP server with the access token;
// on a 401/403 one refresh through the token endpoint (stored if it succeeds, as a session's refresh would be) and
// the probe again with the new token. The report names the failing step and scrubbed HTTP answers, never a secret.
import type { OpenedCredential } from '../../db/repositories/vault-secrets.ts';
import { connectMcp, listAllTools, newWireNotes, type McpConnection } from './client.ts';
import type { McpCredentials } from './credentials.ts';
import { secretValues, tokenOf, type McpRefreshOutcome } from './credentials.ts';
import { errorText, scrub, type CapturedResponse } from './oauth-refresh.ts';

export interface CredentialValidation {
  type: 'vault_credential_validation';
  credential_id: string;
  vault_id: string;
  status: 'valid' | 'invalid' | 'unknown';
  has_refresh_token: boolean;
  mcp_probe: { method: string; http_response: CapturedResponse | null } | null;
  refresh: { status: McpRefreshOutcome['status']; http_response: CapturedResponse | null } | null;
  validated_at: string;
}

type ProbeResult =
  { ok: true } | { ok: false; unauthorized: boolean; method: string; response: CapturedResponse | null };

async function probe(url: string, token: string, fetchImpl: typeof fetch, secrets: string[]): Promise<ProbeResult> {
  let method = 'initialize';
  const notes = newWireNotes();
  let connection: McpConnection | undefined;
  try {
    connection = await connectMcp(url, { token, fetch: fetchImpl, timeoutMs: 15_000, notes });
    method = 'tools/list';
    await listAllTools(connection.client, 15_000);
    return { ok: true };
  } catch (error) {
    const body = scrub(errorText(error), secrets).slice(0, 1024);
    const response =
      notes.lastStatus === undefined
        ? null
        : { status_code: notes.lastStatus, content_type: '', body, body_truncated: false };
    return { ok: false, unauthorized: notes.unauthorized, method, response };
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export async function validateMcpOAuthCredential(
  credentials: McpCredentials,
  fetchImpl: typeof fetch,
  tenantId: string,
  credential: OpenedCredential,
): Promise<CredentialValidation> {
  const url = String(credential.auth.mcp_server_url);
  const report: CredentialValidation = {
    type: 'vault_credential_validation',
    credential_id: credential.id,
    vault_id: credential.vaultId,
    status: 'invalid',
    has_refresh_token: typeof credential.secret.refresh_token === 'string',
    mcp_probe: null,
    refresh: null,
    validated_at: new Date().toISOString(),
  };
  const token = tokenOf(credential);
  if (!token) return report;
  let result = await probe(url, token, fetchImpl, secretValues(credential));
  if (!result.ok && result.unauthorized) {
    const refreshed = await credentials.refresh(tenantId, credential, token);
    const outcome = refreshed.outcome;
    report.refresh = { status: outcome.status, http_response: outcome.status === 'failed' ? outcome.response : null };
    if (outcome.status === 'succeeded') {
      result = await probe(url, outcome.accessToken, fetchImpl, secretValues(refreshed.credential));
    }
  }
  if (result.ok) {
    report.status = 'valid';
    return report;
  }
  report.mcp_probe = { method: result.method, http_response: result.response };
  report.status = result.unauthorized ? 'invalid' : 'unknown';
  return report;
}
