// The one error shape at the API edge, as Anthropic's API answers: {type:'error', error:{type, message}, request_id}.
// Every failure maps here: a PlatformError by its code (invalid input 400, not found 404, conflicts 409, ...),
// validation and parsing to 400/413, Temporal or PostgreSQL out of reach to 503 with retry-after, anything else to a
// 500 without details (the log has them).
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { ErrorCode, PlatformError } from '../domain/errors.ts';
import { makeId } from '../domain/ids.ts';
import { MemoryConflictError } from '../domain/memory.ts';

export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'
  | 'conflict_error'
  | 'memory_path_conflict_error'
  | 'memory_precondition_failed_error';

/** Where each code lands at the API edge; codes not listed are the server's fault (500). */
const httpOf: Partial<Record<ErrorCode, { status: number; type: ApiErrorType }>> = {
  [ErrorCode.invalidInput]: { status: 400, type: 'invalid_request_error' },
  [ErrorCode.unauthenticated]: { status: 401, type: 'authentication_error' },
  [ErrorCode.permissionDenied]: { status: 403, type: 'permission_error' },
  [ErrorCode.notFound]: { status: 404, type: 'not_found_error' },
  [ErrorCode.conflict]: { status: 409, type: 'invalid_request_error' },
  [ErrorCode.tooLarge]: { status: 413, type: 'request_too_large' },
  [ErrorCode.rateLimited]: { status: 429, type: 'rate_limit_error' },
  [ErrorCode.unavailable]: { status: 503, type: 'api_error' },
};

function codeOfStatus(status: number): ErrorCode {
  const entry = Object.entries(httpOf).find(([, http]) => http.status === status);
  if (entry) return entry[0] as ErrorCode;
  if (status === 431) return ErrorCode.tooLarge;
  return status < 500 ? ErrorCode.invalidInput : ErrorCode.internal;
}

/** A PlatformError with its HTTP status and Anthropic error type decided: what the API sends. */
export class ApiError extends PlatformError {
  readonly status: number;
  readonly type: ApiErrorType;
  /** Machine-readable detail (`error.details`, with an `error_code`), as the API sends for some errors. */
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, type: ApiErrorType, message: string, details?: Record<string, unknown>) {
    super(codeOfStatus(status), message, { retryable: status === 429 || status >= 500 });
    this.status = status;
    this.type = type;
    this.details = details;
  }
}

export const invalidRequest = (message: string): ApiError => new ApiError(400, 'invalid_request_error', message);
export const conflict = (message: string): ApiError => new ApiError(409, 'invalid_request_error', message);
export const notFound = (what: string, id: string): ApiError =>
  new ApiError(404, 'not_found_error', `${what} ${JSON.stringify(id)} was not found`);

export interface ErrorBody {
  type: 'error';
  error: { type: ApiErrorType; message: string; details?: Record<string, unknown> };
  request_id: string;
}

const retryAfterSeconds = 2;

/** Network-level failures reaching PostgreSQL or Temporal: the caller should retry, it is not our bug. */
export function isServiceUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const record = error as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  const code = record.code;
  const pgCodes = ['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006'];
  const netCodes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN'];
  if (typeof code === 'string' && (pgCodes.includes(code) || netCodes.includes(code))) return true;
  // gRPC status codes from the Temporal client: UNAVAILABLE (14), DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8), and
  // CANCELLED (1) — what a call in flight gets when the server goes away or restarts under it.
  if (typeof code === 'number' && [1, 4, 8, 14].includes(code)) return true;
  const message = typeof record.message === 'string' ? record.message : '';
  if (
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
      message,
    )
  ) {
    return true;
  }
  if (record.name === 'TransportError' || /^14 UNAVAILABLE|^4 DEADLINE_EXCEEDED|^1 CANCELLED/.test(message))
    return true;
  // A query with no session worker polling (all down, or not yet reconnected after a Temporal restart) fails with
  // FAILED_PRECONDITION: the session's backing worker is out of reach, as retryable as the server itself.
  if (/no poller seen for task queue recently/.test(message)) return true;
  return isServiceUnavailable(record.cause, depth + 1);
}

function isPostgresDataException(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    /^22[0-9A-Z]{3}$/.test(error.code) &&
    'severity' in error
  );
}

function classify(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof MemoryConflictError) {
    const conflicting = error.conflictingPath
      ? { conflicting_path: error.conflictingPath, conflicting_memory_id: error.conflictingMemoryId ?? '' }
      : undefined;
    return new ApiError(409, error.type, error.message, conflicting);
  }
  if (error instanceof PlatformError) {
    const http = httpOf[error.code];
    if (http) return new ApiError(http.status, http.type, error.message);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return `${error.validationContext ?? 'request'}${path ? `.${path}` : ''}: ${issue.message}`;
    });
    return invalidRequest(issues.join('; '));
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ApiError(413, 'request_too_large', 'the request body is too large');
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return invalidRequest('unsupported content-type: send application/json');
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const message = fastifyError.message ?? 'invalid request';
    if (fastifyError.statusCode === 413) return new ApiError(413, 'request_too_large', message);
    return invalidRequest(message);
  }
  if (isPostgresDataException(error)) {
    // SQLSTATE class 22: a value the database cannot store or compare (an out-of-range number, a NUL character, an
    // impossible time-zone offset). The request was bad, not the server; the failed statement wrote nothing.
    return invalidRequest(`a value in the request cannot be stored: ${error.message}`);
  }
  if (isServiceUnavailable(error)) {
    return new ApiError(503, 'api_error', 'a backing service (Temporal or PostgreSQL) is unreachable; retry later');
  }
  return undefined;
}

export function errorBody(request: FastifyRequest, error: ApiError): ErrorBody {
  const details = error.details ? { details: error.details } : {};
  return {
    type: 'error',
    error: { type: error.type, message: error.message, ...details },
    request_id: String(request.id),
  };
}

/** Sends the error shape; tells the SDK not to retry what retrying cannot fix. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.status === 503) reply.header('retry-after', String(retryAfterSeconds)).header('x-should-retry', 'true');
  else if (error.status < 500 && error.status !== 429) reply.header('x-should-retry', 'false');
  return reply.code(error.status).type('application/json').send(errorBody(request, error));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const known = classify(error);
    if (known) {
      if (known.status >= 500) request.log.warn({ err: error }, 'service unavailable');
      return sendError(request, reply, known);
    }
    if (isResponseSerializationError(error))
      request.log.error({ err: error, issues: error.cause.issues }, 'bad response shape');
    else request.log.error({ err: error }, 'unhandled error');
    return sendError(request, reply, new ApiError(500, 'api_error', 'internal server error'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new ApiError(404, 'not_found_error', `no route for ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}

/** Fastify's own routing failures (an undecodable URL, an over-long path parameter), in the one error shape. */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'the URL is malformed';
  void sendError(request, reply, invalidRequest(message));
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a NUL or raw non-ASCII byte, headers past the size
 * limit), in the one error shape rather than Fastify's default body. There is no request object, so a fresh id.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, type, message]: [number, string, ApiErrorType, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'request_too_large', 'the request line and headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'invalid_request_error', 'the request did not arrive in time']
        : [400, 'Bad Request', 'invalid_request_error', 'the request is not valid HTTP'];
  const body = JSON.stringify({ type: 'error', error: { type, message }, request_id: makeId('request', randomUUID()) });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
