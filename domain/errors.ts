// Failure types that cross the activity → workflow boundary as `ApplicationFailure.type`. The workflow branches on these
// names, so they are part of the replay contract: rename none of them.

export const FailureType = {
  /** The model provider rejected the request for good (400/401/403/404/422): surfaced as `session.error`, not retried. */
  modelRequestRejected: 'ModelRequestRejected',
  /** The provider was rate limiting (429); retried. */
  modelRateLimited: 'ModelRateLimited',
  /** The provider was overloaded (529) or failed (5xx); retried. */
  modelOverloaded: 'ModelOverloaded',
  /** Network failure, reset or malformed stream; retried. */
  modelTransport: 'ModelTransport',
  /** The sandbox's container is gone (killed, host lost); the session recreates it from its last snapshot. */
  sandboxGone: 'SandboxGone',
  /** A tool was called with bad input or failed in a way the model should read; becomes an `is_error` tool result. */
  toolFailed: 'ToolFailed',
  /** A backend tool's worker reported an error meant for the model. */
  backendToolFailed: 'BackendToolFailed',
  /** A configuration problem (unknown credential, unknown provider): not retried. */
  misconfigured: 'Misconfigured',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failure types that Temporal must not retry. */
export const nonRetryableFailureTypes: FailureType[] = [
  FailureType.modelRequestRejected,
  FailureType.toolFailed,
  FailureType.backendToolFailed,
  FailureType.misconfigured,
  FailureType.sandboxGone,
];

/** Maps a model failure type to the `session.error` error type Anthropic uses. */
export const sessionErrorTypeFor = (failureType: string | undefined): string => {
  switch (failureType) {
    case FailureType.modelRateLimited:
      return 'model_rate_limited_error';
    case FailureType.modelOverloaded:
      return 'model_overloaded_error';
    case FailureType.modelRequestRejected:
    case FailureType.modelTransport:
      return 'model_request_failed_error';
    default:
      return 'unknown_error';
  }
};
