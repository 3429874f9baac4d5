// Which failures reaching Temporal or PostgreSQL the API answers with 503 + retry-after (the caller retries) rather
// than a 500. A Temporal server restarting under a query in flight cancels the call (gRPC CANCELLED, code 1).
import { ServiceError } from '@temporalio/client';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { isServiceUnavailable, registerErrorHandling } from '../../api/errors.ts';

// gRPC status codes (grpc-js's `status` enum).
const GrpcStatus = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;
type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];
const statusName = (code: GrpcStatus): string =>
  Object.entries(GrpcStatus).find(([, value]) => value === code)?.[0] ?? String(code);

/** The error grpc-js hands the Temporal client: code, details and a "<code> <NAME>: details" message. */
function grpcError(code: GrpcStatus, details: string): Error {
  return Object.assign(new Error(`${code} ${statusName(code)}: ${details}`), { code, details });
}

/** As the Temporal client throws it: a ServiceError with the gRPC error as its cause. */
const fromTemporal = (code: GrpcStatus, details: string): Error =>
  new ServiceError('Failed to query Workflow', { cause: grpcError(code, details) });

describe('isServiceUnavailable', () => {
  it.each([
    ['CANCELLED (server restarting)', fromTemporal(GrpcStatus.CANCELLED, 'Call cancelled')],
    ['UNAVAILABLE', fromTemporal(GrpcStatus.UNAVAILABLE, 'No connection established')],
    ['DEADLINE_EXCEEDED', fromTemporal(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded')],
    ['RESOURCE_EXHAUSTED', fromTemporal(GrpcStatus.RESOURCE_EXHAUSTED, 'namespace rps limit')],
    ['CANCELLED, by message only', new Error('1 CANCELLED: Call cancelled')],
    ['no poller', fromTemporal(GrpcStatus.FAILED_PRECONDITION, 'no poller seen for task queue recently')],
    ['PostgreSQL shutting down', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('%s is unavailable', (_name, error) => {
    expect(isServiceUnavailable(error)).toBe(true);
  });

  it.each([
    ['INVALID_ARGUMENT', fromTemporal(GrpcStatus.INVALID_ARGUMENT, 'bad query')],
    ['NOT_FOUND', fromTemporal(GrpcStatus.NOT_FOUND, 'workflow not found')],
    ['INTERNAL', fromTemporal(GrpcStatus.INTERNAL, 'boom')],
    ['a plain bug', new TypeError('undefined is not a function')],
    ['a PostgreSQL constraint', Object.assign(new Error('duplicate key'), { code: '23505' })],
  ])('%s is not', (_name, error) => {
    expect(isServiceUnavailable(error)).toBe(false);
  });
});

describe('the API edge', () => {
  it('answers a cancelled Temporal call with 503, retry-after and the one error shape', async () => {
    const app = Fastify();
    registerErrorHandling(app);
    app.get('/query', () => {
      throw fromTemporal(GrpcStatus.CANCELLED, 'Call cancelled');
    });
    const response = await app.inject({ method: 'GET', url: '/query' });
    await app.close();
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('2');
    expect(response.headers['x-should-retry']).toBe('true');
    expect(response.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });
});
