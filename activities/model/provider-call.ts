// One provider call as every model activity makes it: the endpoint (operator's or the tenant's, through the URL
// guard), the tenant's daily budget, the provider's concurrency slot, heartbeats, the adapter, and the usage ledger.
// The agent's turn (activities.ts), the outcome grader and the context summariser (side-calls.ts) share it.
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { resolveSessionCredentials } from '../../db/repositories/vault-secrets.ts';
import type { SecretBox } from '../../db/repositories/secret-box.ts';
import type { ModelMessage, ModelResponse, ModelSpec, ModelStreamPart, ToolSpec } from '../../domain/model.ts';
import { UrlGuard } from '../../net/url-guard.ts';
import { heartbeating, runningHeartbeatDetail, type AttemptRecorder } from '../heartbeats.ts';
import { adapterFor } from './adapter.ts';
import { resolveModelEndpoint, type ModelEndpoints } from './endpoint.ts';
import { ProviderLimiter } from './provider-limits.ts';
import { assertWithinBudget, defaultMetering, meterResponse, type MeteringOptions } from './usage-metering.ts';

export interface ModelActivityDeps {
  pool: pg.Pool;
  endpoints: ModelEndpoints;
  limiter?: ProviderLimiter;
  /** Checks and connects to tenant endpoints (an agent's model.base_url that is not the operator's). */
  urlGuard?: UrlGuard;
  /** Opens the tenant's own model key from the session's vaults, for tenant endpoints. */
  secretBox?: SecretBox;
  /** Price table and default daily token budget for the usage ledger (usage-metering.ts). */
  metering?: MeteringOptions;
  /** Records that this worker got the call, before its request goes out (../heartbeats.ts). */
  recordAttempt: AttemptRecorder;
}

export interface ProviderCall {
  sessionId: string;
  /** A session thread's call: the session its usage is metered against (default `sessionId`). */
  meteredSessionId?: string;
  model: ModelSpec;
  tenantId?: string;
  vaultIds?: string[];
  /** The usage-ledger row's key: one row per response, however often the activity is retried. */
  entryKey: string;
  system?: string;
  /** The messages, or their promise: read while the endpoint and the tenant's budget are checked. */
  messages: ModelMessage[] | Promise<ModelMessage[]>;
  tools: ToolSpec[];
  maxOutputTokens: number;
  onPart?: (part: ModelStreamPart) => void;
  /** Work to finish beside the usage-ledger write once the response is complete (the last live deltas). */
  settle?: () => Promise<void>;
  /** Aborts the call besides the activity's cancellation (the turn's events could not be written). */
  signal?: AbortSignal;
}

export type CallProvider = (call: ProviderCall) => Promise<ModelResponse>;

export function createProviderCaller(deps: ModelActivityDeps): CallProvider {
  const limiter = deps.limiter ?? new ProviderLimiter({ maxConcurrent: 100, maxPerSecond: 1_000 });
  const urlGuard = deps.urlGuard ?? new UrlGuard();
  const metering = deps.metering ?? defaultMetering;

  return async (call) => {
    const context = Context.current();
    const signal = call.signal
      ? AbortSignal.any([context.cancellationSignal, call.signal])
      : context.cancellationSignal;
    // Heartbeats from the first second on (../heartbeats.ts), also while the checks below or a provider slot keep the
    // call waiting, so a long wait on a loaded machine is not taken for a dead worker.
    return heartbeating(
      () => context.heartbeat(runningHeartbeatDetail),
      async () => {
        const resolving = resolveModelEndpoint({
          endpoints: deps.endpoints,
          model: call.model,
          guard: urlGuard,
          tenantCredentials: async (name) =>
            deps.secretBox && call.tenantId
              ? resolveSessionCredentials(deps.pool, deps.secretBox, call.tenantId, call.vaultIds ?? [], {
                  type: 'environment_variable',
                  authKey: `env:${name}`,
                })
              : [],
        });
        // Side by side (each may be a PostgreSQL round trip or the server's); no provider request before all are done.
        // Once the request goes out the call has run (a provider may bill it, deltas may reach a client), so the
        // server stores a heartbeat of this attempt first: a timeout without any heartbeat then means no worker got
        // the call, and the workflow retries it unannounced (workflows/model-call.ts, lostOnTheWay).
        const [endpoint, messages] = await Promise.all([
          resolving,
          call.messages,
          call.tenantId ? assertWithinBudget(deps.pool, metering, call.tenantId) : undefined,
          deps.recordAttempt(context.info.taskToken),
        ]);
        const release = await limiter.acquire(call.model.provider, signal);
        try {
          const response = await adapterFor(call.model.provider).call(
            {
              model: { ...call.model, baseUrl: endpoint.baseUrl },
              system: call.system,
              messages,
              tools: call.tools,
              maxOutputTokens: call.maxOutputTokens,
            },
            { apiKey: endpoint.apiKey, fetch: endpoint.fetch, signal, onPart: call.onPart },
          );
          await Promise.all([
            meterResponse(
              deps.pool,
              metering,
              { ...call, sessionId: call.meteredSessionId ?? call.sessionId },
              response,
            ),
            call.settle?.(),
          ]);
          return response;
        } finally {
          release();
        }
      },
    );
  };
}
