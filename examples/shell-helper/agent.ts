// A "shell helper" agent defined in code: each turn it asks the model for one shell command (the agent's bash tool),
// runs it in the session's sandbox, and asks the model once more to answer from the output. At most one command per
// turn, whatever the model asks for — a loop the native harness cannot express, written as ordinary code.
// This file is the worker's workflow module: it defines the agent and re-exports the session workflow (sdk/agent.ts).
import { defineAgent } from '../../sdk/agent.ts';

export { sessionWorkflow } from '../../sdk/agent.ts';

export const shellHelper = defineAgent({
  name: 'shell-helper',
  async handler(ctx) {
    const first = await ctx.callModel();
    if (!first) return; // interrupted, or the model call failed (the session has the error)
    const command = first.toolUses.find((use) => use.name === 'bash');
    if (!command) return; // the model answered without a command: its message is the answer
    const result = await ctx.runTool('bash', command.input);
    if (ctx.interrupted()) return;
    const answer = await ctx.callModel({ tools: [] }); // no more commands this turn
    if (answer && !answer.text) ctx.emit(result.isError ? 'The command failed.' : result.content);
  },
});
