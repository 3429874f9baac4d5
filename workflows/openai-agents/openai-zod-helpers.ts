// Stands in for `openai/helpers/zod` in workflow bundles (workers/workflow-bundler.ts). @openai/agents-core imports
// that helper only to turn zod-typed tool parameters and output types into JSON schemas, and falls back to its own
// conversion when the helper throws. This harness gives the SDK JSON schemas (tool-call-book.ts) and no output type,
// so the helper is never needed — and without it the OpenAI client and zod v3, which it pulls in, stay out of the
// bundle.
import { ApplicationFailure } from '@temporalio/workflow';

const absent = (): never => {
  throw ApplicationFailure.nonRetryable('openai/helpers/zod is not in the workflow bundle', 'UnsupportedInWorkflow');
};

export const zodResponsesFunction = absent;
export const zodTextFormat = absent;
