// A code-defined agent (sdk/agent.ts) with the native loop's shape, for the harness conformance test: each turn it
// calls the model, runs every tool call the model asked for together (ctx.runTool waits for the client where the
// policy or the tool says so), and goes on until the model answers without tools or the user interrupts.
// This file is a worker's workflow module: it defines the agent and re-exports the session workflow.
import { defineAgent } from '../../sdk/agent.ts';

export { sessionWorkflow } from '../../sdk/agent.ts';

export const conformanceWorkflowsPath = new URL(import.meta.url).pathname;

export const conformanceAgent = defineAgent({
  name: 'conformance',
  async handler(ctx) {
    for (;;) {
      const reply = await ctx.callModel();
      if (!reply || reply.toolUses.length === 0 || ctx.interrupted()) return;
      await Promise.all(reply.toolUses.map((use) => ctx.runTool(use.name, use.input)));
      if (ctx.interrupted()) return;
    }
  },
});
