// The activity edge of the one error base: a PlatformError leaves an activity as an ApplicationFailure whose type is
// its code, not retried by Temporal when it is not retryable. Workflows branch on the type (domain/errors.ts).
import { ApplicationFailure } from '@temporalio/common';
import type { PlatformError } from '../domain/errors.ts';

export function toApplicationFailure(error: PlatformError): ApplicationFailure {
  return ApplicationFailure.create({ type: error.code, nonRetryable: !error.retryable, message: error.message });
}
