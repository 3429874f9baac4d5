// Loaded by path (DataConverter.failureConverterPath) into both the worker's workflow bundle and the client: error
// messages and stack traces often quote conversation text, so they travel as an encoded payload that the encryption
// codec encrypts, instead of the plain-text fields Temporal uses by default.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
