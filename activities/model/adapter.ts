// The seam between the model activity and a provider: one call in the vendor-neutral shapes of domain/model.ts, and
// the adapter for each provider.
import { MisconfiguredError } from '../../domain/errors.ts';
import type { ModelProvider, ModelRequest, ModelResponse, ModelStreamPart } from '../../domain/model.ts';
import { toApplicationFailure } from '../failures.ts';
import { anthropicAdapter } from './anthropic.ts';
import { openAiChatAdapter } from './openai-chat.ts';
import { openAiResponsesAdapter } from './openai-responses.ts';

export interface ModelCallOptions {
  /** The provider credential, resolved inside the activity; never logged and never part of a failure message. */
  apiKey: string;
  /** Aborting ends the call at once; the call then rejects with a `CancelledFailure` (see errors.ts). */
  signal?: AbortSignal;
  /**
   * Live progress, in stream order. `index` is the block's position among the blocks this response streams (thinking,
   * text and tool calls alike, counted from 0), so deltas of one block share an index.
   */
  onPart?: (part: ModelStreamPart) => void;
  defaultHeaders?: Record<string, string>;
  /** The fetch to call the provider with (a tenant endpoint's goes through the URL guard). */
  fetch?: typeof fetch;
}

export interface ModelAdapter {
  /** Streams one model turn; rejects with an `ApplicationFailure` typed by FailureType, or a `CancelledFailure` on abort. */
  call(request: ModelRequest, options: ModelCallOptions): Promise<ModelResponse>;
}

const adapters: Record<ModelProvider, ModelAdapter> = {
  anthropic: anthropicAdapter,
  'openai-chat': openAiChatAdapter,
  'openai-responses': openAiResponsesAdapter,
};

export function adapterFor(provider: ModelProvider): ModelAdapter {
  const adapter = adapters[provider] as ModelAdapter | undefined;
  // Providers arrive from stored agent configs; an unknown one is a configuration error, not a bug to retry.
  if (!adapter) {
    throw toApplicationFailure(new MisconfiguredError(`unknown model provider ${String(provider)}`));
  }
  return adapter;
}
