// The OAuth refresh-token grant (RFC 6749 §6) against an `mcp_oauth` credential's token endpoint, with the three
// client authentications the API defines: `none` (client_id in the body), `client_secret_post` (id and secret in the
// body) and `client_secret_basic` (HTTP Basic). Through the URL guard's fetch: the token endpoint is tenant-supplied.
// What it returns about a failure never carries a secret: bodies are scrubbed of the credential's values and of any
// token-looking field, and truncated.

export interface RefreshConfig {
  tokenEndpoint: string;
  clientId: string;
  authMethod: 'none' | 'client_secret_basic' | 'client_secret_post';
  clientSecret?: string;
  refreshToken: string;
  scope?: string | null;
  resource?: string | null;
}

/** An HTTP answer as the validation API reports it (Anthropic's `BetaManagedAgentsRefreshHTTPResponse`). */
export interface CapturedResponse {
  status_code: number;
  content_type: string;
  body: string;
  body_truncated: boolean;
}

export type RefreshOutcome =
  | { status: 'succeeded'; accessToken: string; refreshToken?: string; expiresAt: string | null }
  | { status: 'failed'; response: CapturedResponse }
  | { status: 'connect_error'; message: string };

const maxBody = 1024;

/** Replaces every known secret, and the values of token-bearing JSON fields, with `[redacted]`. */
export function scrub(text: string, secrets: Array<string | undefined>): string {
  let scrubbed = text;
  for (const secret of secrets) if (secret && secret.length >= 4) scrubbed = scrubbed.split(secret).join('[redacted]');
  return scrubbed.replace(
    /("(?:access_token|refresh_token|id_token|client_secret|token)"\s*:\s*)"[^"]*"/g,
    '$1"[redacted]"',
  );
}

export async function capture(response: Response, secrets: Array<string | undefined>): Promise<CapturedResponse> {
  const text = scrub(await response.text().catch(() => ''), secrets);
  return {
    status_code: response.status,
    content_type: response.headers.get('content-type') ?? '',
    body: text.slice(0, maxBody),
    body_truncated: text.length > maxBody,
  };
}

export async function refreshAccessToken(
  config: RefreshConfig,
  fetchImpl: typeof fetch,
  now: () => number = Date.now,
): Promise<RefreshOutcome> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: config.refreshToken });
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (config.authMethod === 'client_secret_basic') {
    const pair = `${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret ?? '')}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else {
    form.set('client_id', config.clientId);
    if (config.authMethod === 'client_secret_post') form.set('client_secret', config.clientSecret ?? '');
  }
  if (config.scope) form.set('scope', config.scope);
  if (config.resource) form.set('resource', config.resource);
  const secrets = [config.refreshToken, config.clientSecret];
  let response: Response;
  try {
    response = await fetchImpl(config.tokenEndpoint, {
      method: 'POST',
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    return { status: 'connect_error', message: scrub(errorText(error), secrets) };
  }
  if (!response.ok) return { status: 'failed', response: await capture(response, secrets) };
  const body = (await response.json().catch(() => undefined)) as
    { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown } | undefined;
  if (!body || typeof body.access_token !== 'string') {
    return {
      status: 'failed',
      response: {
        status_code: response.status,
        content_type: response.headers.get('content-type') ?? '',
        body: 'the token endpoint answered without an access_token',
        body_truncated: false,
      },
    };
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
  return {
    status: 'succeeded',
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    expiresAt: expiresIn === undefined ? null : new Date(now() + expiresIn * 1000).toISOString(),
  };
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
