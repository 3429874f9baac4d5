// Agents defined in code, the workflow side: `defineAgent({ name, handler })` registers a handler for the `code` harness
// (workflows/code-harness.ts). The operator's workflow module calls it at load and re-exports `sessionWorkflow`, so
// their worker (sdk/worker.ts) runs the platform's session workflow with their handler inside — workflow code, under
// the same determinism rules as workflows/ (no I/O, no clocks; do I/O through ctx.runTool or a backend tool).
import { registerCodeAgent, type CodeAgentDefinition } from '../workflows/code-harness.ts';

export type {
  CodeAgentContext,
  CodeAgentDefinition,
  CodeAgentHandler,
  ModelReply,
  ToolResult,
} from '../workflows/code-harness.ts';
export { sessionWorkflow } from '../workflows/session-workflow.ts';

/** Registers the agent's handler under `name` (the agent's `harness: { type: 'code', name, task_queue }`). */
export function defineAgent(definition: CodeAgentDefinition): CodeAgentDefinition {
  registerCodeAgent(definition);
  return definition;
}
