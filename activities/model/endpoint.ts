// Which endpoint a model call goes to and with which key. The operator's provider keys go only to the operator's own
// endpoints (the provider's default or configured base URL, the fake model server). An agent's `model.base_url`
// anywhere else is a tenant endpoint: it is checked by the URL guard (no private or metadata addresses unless
// allow-listed), called through the guard's fetch, and authenticated with the tenant's own key — an
// `environment_variable` credential named ANTHROPIC_API_KEY (anthropic) or OPENAI_API_KEY (openai-*) in one of the
// session's vaults, whose networking allows the endpoint's host. Without one the call is refused.
import { MisconfiguredError } from '../../domain/errors.ts';
import type { ModelProvider, ModelSpec } from '../../domain/model.ts';
import type { OpenedCredential } from '../../db/repositories/vault-secrets.ts';
import { UrlRefusedError, type UrlGuard } from '../../net/url-guard.ts';
import { toApplicationFailure } from '../failures.ts';
import { anthropicDefaultBaseUrl } from './anthropic.ts';
import { openAiDefaultBaseUrl } from './openai-chat.ts';

/** Where each provider is reached and with which key. Keys stay in the worker process; workflows never see them. */
export interface ModelEndpoints {
  anthropic: { apiKey?: string; baseUrl?: string };
  openai: { apiKey?: string; baseUrl?: string };
  /** The fake model server, used for any provider whose key is missing (dev stack, tests). */
  fallbackBaseUrl?: string;
}

export interface ResolvedEndpoint {
  apiKey: string;
  baseUrl?: string;
  /** Set for tenant endpoints: the URL guard's fetch. */
  fetch?: typeof fetch;
}

/** The vault secret a tenant endpoint of this provider is called with. */
export const tenantKeyName = (provider: ModelProvider): string =>
  provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY';

const normalize = (url: string): string => url.replace(/\/+$/, '');

/** The operator's endpoints for a provider: the only places its key (or the fake server's) goes. */
export function operatorBaseUrls(endpoints: ModelEndpoints, provider: ModelProvider): Set<string> {
  const configured = provider === 'anthropic' ? endpoints.anthropic : endpoints.openai;
  const urls = [provider === 'anthropic' ? anthropicDefaultBaseUrl : openAiDefaultBaseUrl];
  if (configured.baseUrl) urls.push(configured.baseUrl);
  const fallback = endpoints.fallbackBaseUrl;
  if (fallback) urls.push(provider === 'anthropic' ? fallback : `${fallback}/v1`);
  return new Set(urls.map(normalize));
}

const misconfigured = (message: string) => toApplicationFailure(new MisconfiguredError(message));

function operatorEndpoint(endpoints: ModelEndpoints, model: ModelSpec): ResolvedEndpoint {
  const provider = model.provider === 'anthropic' ? endpoints.anthropic : endpoints.openai;
  if (provider.apiKey) return { apiKey: provider.apiKey, baseUrl: model.baseUrl ?? provider.baseUrl };
  const fallback = endpoints.fallbackBaseUrl;
  if (fallback) {
    // The fake model server serves Anthropic at its root and OpenAI under /v1, as the real services do.
    return {
      apiKey: 'fake-key',
      baseUrl: model.baseUrl ?? (model.provider === 'anthropic' ? fallback : `${fallback}/v1`),
    };
  }
  throw misconfigured(`no API key configured for ${model.provider} models on this worker`);
}

function credentialAllowsHost(credential: OpenedCredential, host: string): boolean {
  const networking = credential.auth.networking as { type?: string; allowed_hosts?: string[] } | undefined;
  if (!networking || networking.type !== 'limited') return true;
  return (networking.allowed_hosts ?? []).some((allowed) => allowed.toLowerCase() === host.toLowerCase());
}

export async function resolveModelEndpoint(options: {
  endpoints: ModelEndpoints;
  model: ModelSpec;
  guard: UrlGuard;
  /** The session's `environment_variable` credentials named `name` (opened only when a tenant endpoint needs one). */
  tenantCredentials: (name: string) => Promise<OpenedCredential[]>;
}): Promise<ResolvedEndpoint> {
  const { endpoints, model, guard } = options;
  if (!model.baseUrl || operatorBaseUrls(endpoints, model.provider).has(normalize(model.baseUrl))) {
    return operatorEndpoint(endpoints, model);
  }
  try {
    await guard.check(model.baseUrl);
  } catch (error) {
    if (error instanceof UrlRefusedError) throw misconfigured(`model base_url refused: ${error.message}`);
    throw error;
  }
  const host = new URL(model.baseUrl).hostname;
  const name = tenantKeyName(model.provider);
  const credential = (await options.tenantCredentials(name)).find((candidate) => credentialAllowsHost(candidate, host));
  const apiKey = credential?.secret.secret_value;
  if (typeof apiKey !== 'string') {
    throw misconfigured(
      `model base_url ${host} is not an operator endpoint: the call needs the tenant's own key, an ` +
        `environment_variable credential named ${name} (allowed for ${host}) in one of the session's vaults`,
    );
  }
  return { apiKey, baseUrl: model.baseUrl, fetch: guard.fetch };
}
