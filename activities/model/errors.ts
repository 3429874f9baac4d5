// Turns whatever a model call throws into a Temporal failure the session workflow can branch on (FailureType), with
// the provider's retry-after honoured and the API key kept out of every message.
//
// Aborts are not failures: when the call's AbortSignal fired (an interrupt, or Temporal cancelling the activity), the
// call rejects with the signal's reason if it is already a Temporal failure (the activity context's cancellation signal
// carries a CancelledFailure), else with a new CancelledFailure. The worker reports that as a cancelled activity, and
// nothing is retried — whatever error the SDK raised while being torn down is ignored.
import { APIConnectionError as AnthropicConnectionError, APIError as AnthropicApiError } from '@anthropic-ai/sdk';
import { ApplicationFailure, CancelledFailure, TemporalFailure } from '@temporalio/common';
import { APIConnectionError as OpenAiConnectionError, APIError as OpenAiApiError } from 'openai';
import { ErrorCode, FailureType, PlatformError } from '../../domain/errors.ts';
import type { ModelProvider } from '../../domain/model.ts';

export interface ProviderCallContext {
  provider: ModelProvider;
  model: string;
  /** Only used to scrub it from messages. */
  apiKey: string;
}

/** A broken stream noticed by an adapter (ended early, failed mid-way); `providerErrorType` when the provider named one. */
export class ModelStreamError extends PlatformError {
  readonly providerErrorType: string | undefined;

  constructor(message: string, providerErrorType?: string) {
    super(ErrorCode.modelTransport, message, { retryable: true });
    this.providerErrorType = providerErrorType;
    this.name = 'ModelStreamError';
  }
}

const rejectedStatuses = new Set([400, 401, 403, 404, 422]);
const overloadedStatuses = new Set([408, 409, 529]);
// Error type names that providers put in a stream's error event (no HTTP status there).
const rateLimitedErrorTypes = new Set(['rate_limit_error', 'rate_limit_exceeded', 'rate_limited']);
const overloadedErrorTypes = new Set([
  'overloaded_error',
  'api_error',
  'server_error',
  'server_is_overloaded',
  'timeout',
]);
const rejectedErrorTypes = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'invalid_prompt',
  'context_length_exceeded',
]);

function failureTypeForStatus(status: number): FailureType {
  if (status === 429) return FailureType.modelRateLimited;
  if (status === 402) return FailureType.modelBillingFailed;
  if (rejectedStatuses.has(status)) return FailureType.modelRequestRejected;
  if (overloadedStatuses.has(status) || status >= 500) return FailureType.modelOverloaded;
  // Other 4xx (413 too large, …) will not get better by retrying.
  return status >= 400 ? FailureType.modelRequestRejected : FailureType.modelTransport;
}

function failureTypeForProviderErrorType(errorType: string | undefined): FailureType {
  if (errorType && rateLimitedErrorTypes.has(errorType)) return FailureType.modelRateLimited;
  if (errorType && overloadedErrorTypes.has(errorType)) return FailureType.modelOverloaded;
  if (errorType && rejectedErrorTypes.has(errorType)) return FailureType.modelRequestRejected;
  if (errorType === 'billing_error') return FailureType.modelBillingFailed;
  return FailureType.modelTransport;
}

/** Milliseconds the provider asked us to wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterMilliseconds(headers: { get(name: string): string | null } | undefined): number | undefined {
  const milliseconds = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const retryAfter = headers?.get('retry-after');
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(retryAfter);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** Removes the API key, and anything shaped like a key or a bearer token, from text bound for history and logs. */
export function redactApiKeys(text: string, apiKey: string): string {
  let redacted = apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text;
  redacted = redacted.replace(/\b(sk-[A-Za-z0-9_-]{2,})[A-Za-z0-9_*-]{6,}/g, 'sk-[redacted]');
  return redacted.replace(/(Bearer\s+)\S+/gi, '$1[redacted]');
}

interface ProviderErrorBody {
  errorType?: string;
  message?: string;
}

// Anthropic bodies are {type: 'error', error: {type, message}}; OpenAI's SDK keeps the inner {message, type, code}.
function providerErrorBody(body: unknown): ProviderErrorBody {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' ? { message: body } : {};
  const outer = body as Record<string, unknown>;
  const inner =
    typeof outer.error === 'object' && outer.error !== null ? (outer.error as Record<string, unknown>) : outer;
  const errorType = [inner.type, inner.code].find(
    (value): value is string => typeof value === 'string' && value !== 'error',
  );
  return { errorType, message: typeof inner.message === 'string' ? inner.message : undefined };
}

function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

interface Classified {
  type: FailureType;
  summary: string;
  status?: number;
  providerErrorType?: string;
  requestId?: string;
  retryAfterMs?: number;
}

function classify(error: unknown): Classified {
  if (error instanceof AnthropicConnectionError || error instanceof OpenAiConnectionError) {
    const code = networkCode(error);
    return {
      type: FailureType.modelTransport,
      summary: `connection failed: ${error.message}${code ? ` (${code})` : ''}`,
    };
  }
  if (error instanceof AnthropicApiError || error instanceof OpenAiApiError) {
    const body = providerErrorBody(error.error);
    const requestId = error.requestID ?? undefined;
    const detail = [body.errorType, body.message ?? error.message].filter(Boolean).join(': ');
    if (typeof error.status === 'number') {
      const type = failureTypeForStatus(error.status);
      const retryAfterMs = retryAfterMilliseconds(error.headers as Headers | undefined);
      return {
        type,
        summary: `HTTP ${error.status} ${detail}`,
        status: error.status,
        providerErrorType: body.errorType,
        requestId,
        retryAfterMs,
      };
    }
    // An error event inside a 200 stream.
    const type = failureTypeForProviderErrorType(body.errorType);
    return { type, summary: `stream error event: ${detail}`, providerErrorType: body.errorType, requestId };
  }
  if (error instanceof ModelStreamError) {
    const type = failureTypeForProviderErrorType(error.providerErrorType);
    return { type, summary: error.message, providerErrorType: error.providerErrorType };
  }
  if (error instanceof SyntaxError) {
    return { type: FailureType.modelTransport, summary: `malformed stream: ${error.message}` };
  }
  const code = networkCode(error);
  // A reset mid-body surfaces from fetch as `TypeError: terminated`, the socket error as its cause.
  if (error instanceof TypeError && error.message === 'terminated') {
    return { type: FailureType.modelTransport, summary: `the connection broke mid-stream${code ? ` (${code})` : ''}` };
  }
  // Anything else unexpected is still treated as transport (retried): a retry is the only remedy a worker has, and
  // the activity's retry policy bounds the attempts.
  return {
    type: FailureType.modelTransport,
    summary: `transport failure: ${describe(error)}${code ? ` (${code})` : ''}`,
  };
}

/** Classifies any error from a model call into an `ApplicationFailure` typed by FailureType. */
export function toModelFailure(error: unknown, context: ProviderCallContext): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const classified = classify(error);
  const nonRetryable = classified.type === FailureType.modelRequestRejected;
  const retryHint =
    !nonRetryable && classified.retryAfterMs !== undefined ? ` (retry after ${classified.retryAfterMs} ms)` : '';
  const message = redactApiKeys(
    `${context.provider} model ${context.model}: ${classified.summary}${retryHint}`,
    context.apiKey,
  );
  return ApplicationFailure.create({
    message,
    type: classified.type,
    nonRetryable,
    nextRetryDelay: nonRetryable ? undefined : classified.retryAfterMs,
    details: [
      {
        provider: context.provider,
        model: context.model,
        status: classified.status ?? null,
        providerErrorType: classified.providerErrorType ?? null,
        requestId: classified.requestId ?? null,
        // Temporal does not carry nextRetryDelay back to workflow code; the session loop reads the hint from here.
        retryAfterMs: nonRetryable ? null : (classified.retryAfterMs ?? null),
      },
    ],
  });
}

/** The rejection for a call whose signal aborted: the signal's reason when it is a Temporal failure, else a CancelledFailure. */
export function abortedCallError(signal: AbortSignal): TemporalFailure {
  const reason: unknown = signal.reason;
  if (reason instanceof TemporalFailure) return reason;
  const because = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return new CancelledFailure(`model call aborted${because}`);
}

/** Runs one provider call: aborts become cancellations, every other error a classified ApplicationFailure. */
export async function callClassifyingErrors<T>(
  context: ProviderCallContext,
  signal: AbortSignal | undefined,
  call: () => Promise<T>,
): Promise<T> {
  if (signal?.aborted) throw abortedCallError(signal);
  let result: T;
  try {
    result = await call();
  } catch (error) {
    if (signal?.aborted) throw abortedCallError(signal);
    throw toModelFailure(error, context);
  }
  // The SDKs end a stream quietly when its request is aborted, so an aborted call can "succeed" with partial content.
  if (signal?.aborted) throw abortedCallError(signal);
  return result;
}
