// How the platform's workflow bundles are built (every bundleWorkflowCode and Worker.create of session workflows).
// The OpenAI Agents SDK harness runs the SDK's Runner inside the session workflow (workflows/openai-agents/), so its
// core package is in the bundle; three things adapt it to the workflow sandbox, which is a bare V8 context:
// - its one dynamic import (the sandbox-agent runtime, unused here) is bundled eagerly: a split chunk cannot load;
// - its runtime shims (`@openai/agents-core/_shims`) are replaced by workflow-safe ones (seeded ids, no EventTarget);
//   its import of `openai/helpers/zod` (zod-typed tools, unused here) by a stub, which keeps the OpenAI client and
//   zod v3 out of the bundle (workflows/openai-agents/openai-zod-helpers.ts);
// - `structuredClone`, `AbortController` and `AbortSignal`, which the sandbox lacks, are provided to the bundle's
//   modules (workflows/openai-agents/runtime-shims.ts, abort-signals.ts) — free names bound at bundle time, not globals.
// zod is preloaded (workflows/shared-modules.ts): evaluated once per workflow thread and shared by its workflows, where
// every other module is evaluated again for each workflow the reusable V8 context creates.
import { fileURLToPath } from 'node:url';
import type { BundleOptions } from '@temporalio/worker';
import webpack from 'webpack';

const workflowShims = fileURLToPath(new URL('../workflows/openai-agents/runtime-shims.ts', import.meta.url));
const abortSignals = fileURLToPath(new URL('../workflows/openai-agents/abort-signals.ts', import.meta.url));
const openAiZodHelpers = fileURLToPath(new URL('../workflows/openai-agents/openai-zod-helpers.ts', import.meta.url));
const sharedModules = fileURLToPath(new URL('../workflows/shared-modules.ts', import.meta.url));

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];

export function platformWebpackConfig(config: WebpackConfig): WebpackConfig {
  const javascript = config.module?.parser?.javascript ?? {};
  const alias = config.resolve?.alias;
  return {
    ...config,
    module: {
      ...config.module,
      parser: { ...config.module?.parser, javascript: { ...javascript, dynamicImportMode: 'eager' } },
    },
    resolve: {
      ...config.resolve,
      alias: {
        ...(alias && !Array.isArray(alias) ? alias : {}),
        '@openai/agents-core/_shims$': workflowShims,
        'openai/helpers/zod$': openAiZodHelpers,
      },
    },
    plugins: [
      ...(config.plugins ?? []),
      new webpack.ProvidePlugin({
        structuredClone: [workflowShims, 'structuredClone'],
        AbortController: [abortSignals, 'AbortController'],
        AbortSignal: [abortSignals, 'AbortSignal'],
      }),
    ],
  };
}

/**
 * The bundler options of every platform workflow bundle (bundleWorkflowCode, or Worker.create's bundlerOptions). zod is
 * evaluated once per workflow thread, not once per workflow (workflows/shared-modules.ts).
 */
export const workflowBundlerOptions = { webpackConfigHook: platformWebpackConfig, preloadModules: [sharedModules] };
