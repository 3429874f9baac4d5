// The credential an MCP call carries: the first `static_bearer` or `mcp_oauth` credential in the session's vaults
// whose `mcp_server_url` is the server's URL. An `mcp_oauth` access token past (or within a minute of) its
// `expires_at` is refreshed before use; one the server rejects (401) is refreshed and the call tried once more. The
// refresh runs with the credential's row locked and writes the new token (and a rotated refresh token) back sealed.
import type pg from 'pg';
import type { SecretBox } from '../../db/repositories/secret-box.ts';
import {
  resolveSessionCredentials,
  withLockedCredential,
  type OpenedCredential,
} from '../../db/repositories/vault-secrets.ts';
import type { McpCallerContext } from '../../domain/contracts/mcp-activity.ts';
import type { UrlGuard } from '../../net/url-guard.ts';
import { refreshAccessToken, type RefreshOutcome } from './oauth-refresh.ts';

export type McpRefreshOutcome = RefreshOutcome | { status: 'no_refresh_token' };

export interface McpAuth {
  credential?: OpenedCredential;
  /** The bearer token to send; absent when the session has no credential for this server. */
  token?: string;
}

const expirySkewMs = 60_000;

/** Scheme, host, port and path without a trailing slash: how a credential's URL is matched to a server's. */
export function serverKey(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host.toLowerCase()}${parsed.pathname.replace(/\/+$/, '')}${parsed.search}`;
  } catch {
    return url;
  }
}

const secretString = (secret: Record<string, unknown>, key: string): string | undefined =>
  typeof secret[key] === 'string' ? secret[key] : undefined;

/** Every secret value of a credential (for redaction). */
export const secretValues = (credential: OpenedCredential | undefined): string[] =>
  credential ? Object.values(credential.secret).filter((value): value is string => typeof value === 'string') : [];

export const tokenOf = (credential: OpenedCredential): string | undefined =>
  secretString(credential.secret, credential.auth.type === 'static_bearer' ? 'token' : 'access_token');

export function isExpired(credential: OpenedCredential, now = Date.now()): boolean {
  const expiresAt = credential.auth.expires_at;
  return typeof expiresAt === 'string' && Date.parse(expiresAt) - expirySkewMs <= now;
}

export class McpCredentials {
  private readonly deps: { pool: pg.Pool; secretBox: SecretBox; urlGuard: UrlGuard };

  constructor(deps: { pool: pg.Pool; secretBox: SecretBox; urlGuard: UrlGuard }) {
    this.deps = deps;
  }

  async find(context: McpCallerContext): Promise<OpenedCredential | undefined> {
    const wanted = serverKey(context.server.url);
    const candidates = await resolveSessionCredentials(
      this.deps.pool,
      this.deps.secretBox,
      context.tenantId,
      context.vaultIds,
    );
    return candidates.find(
      (candidate) =>
        (candidate.auth.type === 'static_bearer' || candidate.auth.type === 'mcp_oauth') &&
        typeof candidate.auth.mcp_server_url === 'string' &&
        serverKey(candidate.auth.mcp_server_url) === wanted,
    );
  }

  /** Exchanges the refresh token, unless someone else already replaced `staleToken` (then theirs is used). */
  async refresh(tenantId: string, credential: OpenedCredential, staleToken: string | undefined) {
    const outcome = await withLockedCredential<{ outcome: McpRefreshOutcome; credential: OpenedCredential }>(
      this.deps.pool,
      this.deps.secretBox,
      tenantId,
      credential.id,
      async (current) => {
        if (tokenOf(current) !== staleToken && !isExpired(current)) {
          const accessToken = tokenOf(current) ?? '';
          return { result: { outcome: { status: 'succeeded', accessToken, expiresAt: null }, credential: current } };
        }
        const refresh = current.auth.refresh as
          | {
              client_id: string;
              token_endpoint: string;
              token_endpoint_auth: { type: string };
              scope?: string | null;
              resource?: string | null;
            }
          | null
          | undefined;
        const refreshToken = secretString(current.secret, 'refresh_token');
        if (!refresh || !refreshToken)
          return { result: { outcome: { status: 'no_refresh_token' }, credential: current } };
        const outcome = await refreshAccessToken(
          {
            tokenEndpoint: refresh.token_endpoint,
            clientId: refresh.client_id,
            authMethod: refresh.token_endpoint_auth.type as 'none' | 'client_secret_basic' | 'client_secret_post',
            clientSecret: secretString(current.secret, 'client_secret'),
            refreshToken,
            scope: refresh.scope,
            resource: refresh.resource,
          },
          this.deps.urlGuard.fetch,
        );
        if (outcome.status !== 'succeeded') return { result: { outcome, credential: current } };
        const next: OpenedCredential = {
          ...current,
          secret: {
            ...current.secret,
            access_token: outcome.accessToken,
            refresh_token: outcome.refreshToken ?? refreshToken,
          },
          auth: { ...current.auth, expires_at: outcome.expiresAt },
        };
        return { result: { outcome, credential: next }, rewrite: { secret: next.secret, auth: next.auth } };
      },
    );
    return outcome ?? { outcome: { status: 'no_refresh_token' } as McpRefreshOutcome, credential };
  }
}
