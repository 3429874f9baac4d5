// Splits a credential's `auth` into its public part (stored readable, returned) and its secret part (sealed, never
// returned), and merges updates into both.
import { invalidRequest } from './errors.ts';
import type { CredentialAuthCreate, CredentialAuthUpdate } from './schemas/vaults.ts';

export interface SplitAuth {
  auth: Record<string, unknown> & { type: string };
  authKey: string;
  secret: Record<string, unknown>;
}

export function splitAuth(body: CredentialAuthCreate): SplitAuth {
  switch (body.type) {
    case 'static_bearer':
      return {
        auth: { type: body.type, mcp_server_url: body.mcp_server_url },
        authKey: body.mcp_server_url,
        secret: { token: body.token },
      };
    case 'mcp_oauth': {
      const refresh = body.refresh
        ? {
            client_id: body.refresh.client_id,
            token_endpoint: body.refresh.token_endpoint,
            token_endpoint_auth: { type: body.refresh.token_endpoint_auth.type },
            resource: body.refresh.resource ?? null,
            scope: body.refresh.scope ?? null,
          }
        : null;
      const clientSecret =
        body.refresh && 'client_secret' in body.refresh.token_endpoint_auth
          ? body.refresh.token_endpoint_auth.client_secret
          : undefined;
      return {
        auth: { type: body.type, mcp_server_url: body.mcp_server_url, expires_at: body.expires_at ?? null, refresh },
        authKey: body.mcp_server_url,
        secret: {
          access_token: body.access_token,
          refresh_token: body.refresh?.refresh_token,
          client_secret: clientSecret,
        },
      };
    }
    case 'environment_variable':
      return {
        auth: {
          type: body.type,
          secret_name: body.secret_name,
          networking: body.networking,
          injection_location: {
            header: body.injection_location?.header ?? true,
            body: body.injection_location?.body ?? false,
          },
        },
        authKey: `env:${body.secret_name}`,
        secret: { secret_value: body.secret_value },
      };
  }
}

/** Applies an update to the stored public auth and the opened secret; the type and server URL are immutable. */
export function mergeAuth(
  current: Record<string, unknown>,
  secret: Record<string, unknown>,
  update: CredentialAuthUpdate,
): { auth: Record<string, unknown>; secret: Record<string, unknown> } {
  if (update.type !== current.type)
    throw invalidRequest(`a credential's auth type cannot change (it is ${String(current.type)})`);
  const auth = { ...current };
  const nextSecret = { ...secret };
  switch (update.type) {
    case 'static_bearer':
      if (update.token) nextSecret.token = update.token;
      break;
    case 'mcp_oauth':
      if (update.access_token) nextSecret.access_token = update.access_token;
      if (update.expires_at !== undefined) auth.expires_at = update.expires_at;
      if (update.refresh?.refresh_token) nextSecret.refresh_token = update.refresh.refresh_token;
      if (update.refresh?.token_endpoint_auth?.client_secret) {
        nextSecret.client_secret = update.refresh.token_endpoint_auth.client_secret;
      }
      if (update.refresh?.scope !== undefined && auth.refresh && typeof auth.refresh === 'object') {
        auth.refresh = { ...auth.refresh, scope: update.refresh.scope };
      }
      break;
    case 'environment_variable':
      if (update.secret_value) nextSecret.secret_value = update.secret_value;
      if (update.networking) auth.networking = update.networking;
      if (update.injection_location) {
        const location = (auth.injection_location ?? {}) as Record<string, unknown>;
        auth.injection_location = { ...location, ...update.injection_location };
      }
      break;
  }
  return { auth, secret: nextSecret };
}
