// Failure types that cross the activity → workflow boundary as `ApplicationFailure.type`. The workflow branches on these
// names, so they are part of the replay contract: rename none of them.

export const FailureType = {
  /** The model provider rejected the request for good (400/401/403/404/422): surfaced as `session.error`, not retried. */
  modelRequestRejected: 'ModelRequestRejected',
  /** The provider refused for billing (402, or a `billing_error`): `session.error` `billing_error`, not retried. */
  modelBillingFailed: 'ModelBillingFailed',
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
  /** The tenant has used its model tokens for the day: the turn ends with `budget_reached`; not retried. */
  tenantBudgetReached: 'TenantBudgetReached',
  /** A configuration problem (unknown credential, unknown provider): not retried. */
  misconfigured: 'Misconfigured',
  /** The session workflow refused user events (an answer nobody awaits): the API's 400. */
  userEventRejected: 'UserEventRejected',
  /** The session workflow is ending and takes no more user events: the API's 409. */
  sessionEnded: 'SessionEnded',
  /** An MCP server could not be reached (refused, unresolvable, refused by the URL guard); retried. */
  mcpConnectionFailed: 'McpConnectionFailed',
  /** An MCP server rejected the credential, and a refresh (if any) did not help: not retried. */
  mcpAuthenticationFailed: 'McpAuthenticationFailed',
  /** An MCP tool call failed after it was sent (reset, timeout): not retried, it may have run. */
  mcpCallFailed: 'McpCallFailed',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failure types that Temporal must not retry. */
export const nonRetryableFailureTypes: FailureType[] = [
  FailureType.modelRequestRejected,
  FailureType.modelBillingFailed,
  FailureType.toolFailed,
  FailureType.backendToolFailed,
  FailureType.misconfigured,
  FailureType.sandboxGone,
  FailureType.tenantBudgetReached,
  FailureType.mcpAuthenticationFailed,
  FailureType.mcpCallFailed,
];

/**
 * The workflow edge: whether an activity failure (its ApplicationFailure type, i.e. the PlatformError's code, and its
 * nonRetryable flag, i.e. !retryable) may be tried again.
 */
export const isRetryableFailure = (
  type: string | null | undefined,
  nonRetryable: boolean | null | undefined,
): boolean => !nonRetryable && !nonRetryableFailureTypes.includes(type as FailureType);

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
    case FailureType.modelBillingFailed:
      return 'billing_error';
    default:
      return 'unknown_error';
  }
};

/**
 * Codes of the platform's own errors. Errors that cross the activity edge carry a FailureType as their code (it becomes
 * the ApplicationFailure's type); the others are read at the API edge (api/errors.ts maps each to a status).
 */
export const ErrorCode = {
  ...FailureType,
  /** The caller can fix it: a malformed cursor, a path outside the sandbox's writable folders. */
  invalidInput: 'InvalidInput',
  notFound: 'NotFound',
  /** The request contradicts the current state: a stale version, a duplicate name, a session that has ended. */
  conflict: 'Conflict',
  unauthenticated: 'Unauthenticated',
  permissionDenied: 'PermissionDenied',
  tooLarge: 'TooLarge',
  rateLimited: 'RateLimited',
  /** A backing service (Temporal, PostgreSQL, Docker) is out of reach; trying again later can help. */
  unavailable: 'Unavailable',
  /** An operation got no answer in time. */
  deadlineExceeded: 'DeadlineExceeded',
  /** An environment image build failed for a reason other than the package lists (a registry out of reach). */
  environmentImageBuildFailed: 'EnvironmentImageBuildFailed',
  internal: 'Internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The one error base: a stable code to branch on and whether trying again can help. */
export class PlatformError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

export class InvalidInputError extends PlatformError {
  constructor(message: string) {
    super(ErrorCode.invalidInput, message);
  }
}

export class NotFoundError extends PlatformError {
  constructor(message: string) {
    super(ErrorCode.notFound, message);
  }
}

export class ConflictError extends PlatformError {
  constructor(message: string) {
    super(ErrorCode.conflict, message);
  }
}

/** A configuration problem (no key for a provider, an unknown provider, a package no registry has): not retried. */
export class MisconfiguredError extends PlatformError {
  constructor(message: string) {
    super(ErrorCode.misconfigured, message);
  }
}
