// Modules a session worker evaluates once per workflow thread instead of once per workflow (the bundler's
// `preloadModules`, workers/workflow-bundler.ts). With the SDK's reusable V8 context every module of the bundle is
// evaluated again for each workflow it creates, and each cached workflow keeps its own copy of every module: zod and
// the domain modules that build zod schemas when they load were most of it (bench P4′: 301 KB of heap and 7 ms of CPU
// per workflow created, 84 KB and 1.3 ms with them preloaded). A preloaded module is shared by every workflow of the
// thread and deep-frozen after this module ran, so only stateless code belongs here: libraries, and domain/ (pure by
// its lint rules: no I/O, no workflow APIs, no module state) — never a module of workflows/, and nothing that calls
// workflow APIs (no workflow exists yet when this runs). test/integration/workflow-shared-modules.test.ts fails when a
// workflow evaluates a domain module of its own: add it here.
import { z } from 'zod';
import * as agent from '../domain/agent.ts';
import * as budget from '../domain/budget.ts';
import * as compaction from '../domain/compaction.ts';
import * as dreams from '../domain/dreams.ts';
import * as errors from '../domain/errors.ts';
import * as events from '../domain/events.ts';
import * as ids from '../domain/ids.ts';
import * as inlineAgents from '../domain/inline-agents.ts';
import * as memory from '../domain/memory.ts';
import * as modelPrices from '../domain/model-prices.ts';
import * as model from '../domain/model.ts';
import * as outcomes from '../domain/outcomes.ts';
import * as regions from '../domain/regions.ts';
import * as runnerRouting from '../domain/runner-routing.ts';
import * as sandbox from '../domain/sandbox.ts';
import * as searchAttributes from '../domain/search-attributes.ts';
import * as session from '../domain/session.ts';
import * as skills from '../domain/skills.ts';
import * as systemPrompt from '../domain/system-prompt.ts';
import * as taskQueues from '../domain/task-queues.ts';
import * as threads from '../domain/threads.ts';
import * as toolRouting from '../domain/tool-routing.ts';
import * as advisorTool from '../domain/tools/advisor-tool.ts';
import * as delegateTool from '../domain/tools/delegate-tool.ts';
import * as mcpTools from '../domain/tools/mcp-tools.ts';
import * as runnerTools from '../domain/tools/runner-tools.ts';
import * as sandboxTools from '../domain/tools/sandbox-tools.ts';
import * as subAgentTool from '../domain/tools/sub-agent-tool.ts';
import * as toolDefinition from '../domain/tools/tool-definition.ts';
import * as workflowRunTool from '../domain/tools/workflow-run-tool.ts';
import * as webhooks from '../domain/webhooks.ts';
import * as workflowRuns from '../domain/workflow-runs.ts';

// zod settles its global configuration (default locale, parse memoizer) when its first schemas are built; build them
// here, before the freeze, so that no workflow has to write to the shared (frozen) configuration. (Only what is used
// of `z` is bundled: exporting the namespace would pull in every locale.)
export const zodSettled = z.object({ settled: z.string() }).safeParse({ settled: '' }).success;

/**
 * Keeps the SDK's freeze off zod's internals. The SDK deep-freezes what a preloaded module exports (own properties,
 * recursively, stopping at what is frozen already), but zod 4 writes to a schema after building it: a method becomes
 * the schema's own bound function on its first read (`schema.safeParse`), the parse memoizer replaces `_zod.parse` on
 * the first parse, a regex check resets its pattern's `lastIndex`. So each schema these values hold is frozen here
 * first — itself only, once its lazy members are read — and the SDK's walk stops at it. What stays writable inside
 * are zod's own caches, the same whichever workflow fills them.
 */
export function freezeSchemasShallowly(value: unknown, seen = new Set<object>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value) || Object.isFrozen(value)) return;
  seen.add(value);
  const record = value as Record<PropertyKey, unknown>;
  if (typeof record._zod !== 'object') {
    for (const key of Reflect.ownKeys(value)) freezeSchemasShallowly(record[key], seen);
    return;
  }
  for (
    let proto: unknown = Object.getPrototypeOf(value);
    proto instanceof Object;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (proto === Object.prototype) break;
    for (const key of Reflect.ownKeys(proto)) {
      if (Object.getOwnPropertyDescriptor(proto, key)?.get) void record[key];
    }
  }
  Object.freeze(value);
}

freezeSchemasShallowly([
  agent,
  budget,
  compaction,
  dreams,
  errors,
  events,
  ids,
  inlineAgents,
  memory,
  modelPrices,
  model,
  outcomes,
  regions,
  runnerRouting,
  sandbox,
  searchAttributes,
  session,
  skills,
  systemPrompt,
  taskQueues,
  threads,
  toolRouting,
  advisorTool,
  delegateTool,
  mcpTools,
  runnerTools,
  sandboxTools,
  subAgentTool,
  toolDefinition,
  workflowRunTool,
  webhooks,
  workflowRuns,
]);
