// Provider mode's toolset: the built-in tools a self-hosted environment's runner serves, run in this platform's Docker
// sandboxes instead of the runner's own machine. Given to the official SDK's runner (`worker({ tools })`), which does
// the protocol (poll, lease, event stream, results); each session gets its own hardened container for the length of a
// work item, its /workspace kept between items as a snapshot (provider-sandboxes.ts). Inputs arrive in the runner's
// shapes (`file_path`) and are mapped onto the sandbox tools'; a call re-delivered to a new runner with the same
// tool-use id returns the recorded result instead of running twice (the sandbox's at-most-once exec).
import { randomUUID } from 'node:crypto';
import type { BetaTool } from '@anthropic-ai/sdk/resources/beta/messages/messages';
import type { BetaRunnableTool } from '@anthropic-ai/sdk/lib/tools/BetaRunnableTool';
import { ToolError } from '@anthropic-ai/sdk/lib/tools/ToolError';
import { runnerToolSpecs } from '../../domain/tools/runner-tools.ts';
import { sandboxToolNames, type SandboxToolName } from '../../domain/sandbox.ts';
import type { ProviderSandboxes } from './provider-sandboxes.ts';
import { runSandboxTool } from './tools.ts';

type Input = Record<string, unknown>;

/** The runner toolset's inputs → this platform's sandbox tool inputs. */
const toSandboxInput: Record<SandboxToolName, (input: Input) => Input> = {
  bash: ({ command, timeout_ms }) => ({ command, timeout_ms }),
  read: ({ file_path, view_range }) => {
    const [start, end] = Array.isArray(view_range) ? (view_range as number[]) : [];
    return {
      path: file_path,
      ...(start ? { offset: start } : {}),
      ...(start && end ? { limit: end - start + 1 } : {}),
    };
  },
  write: ({ file_path, content }) => ({ path: file_path, content }),
  edit: ({ file_path, ...rest }) => ({ path: file_path, ...rest }),
  glob: (input) => input,
  grep: (input) => input,
};

/** What the toolset needs of the runner's per-item context: is the session over (then its workspace goes too)? */
export interface ProviderItemContext {
  sessionEnded: () => Promise<boolean>;
  /** Where the runner set up the session's skills on this host (copied into the container at its first call). */
  skillsDir?: string;
}

/**
 * The six tools for one work item of a session, bound to its container (made or restored at the first call). Their
 * close() (the runner calls it when the item ends) snapshots and removes the container, once for the six.
 */
export function providerToolset(
  sandboxes: ProviderSandboxes,
  sessionId: string,
  item: ProviderItemContext,
): BetaRunnableTool[] {
  sandboxes.serve(sessionId);
  let container: Promise<string> | undefined;
  let released: Promise<void> | undefined;
  const containerId = () =>
    (container ??= sandboxes.containerFor(sessionId).then(async (id) => {
      if (item.skillsDir) await sandboxes.installSkills(id, item.skillsDir);
      return id;
    }));
  const release = async () => {
    const id = container ? await container.catch(() => undefined) : undefined;
    const ended = await item.sessionEnded().catch(() => false);
    await sandboxes.release(sessionId, id, ended ? 'session_ended' : 'item_ended');
  };
  return sandboxToolNames.map((name): BetaRunnableTool => ({
    type: 'custom',
    name,
    description: runnerToolSpecs[name].description,
    input_schema: runnerToolSpecs[name].inputSchema as BetaTool['input_schema'],
    parse: (content: unknown) => content as Input,
    run: async (input: Input, context) => {
      const id = await containerId();
      const egress = sandboxes.egress;
      await egress?.ensure(id);
      const outcome = await runSandboxTool(
        {
          sandbox: sandboxes.sandbox,
          containerId: id,
          toolUseId: context?.toolUse?.id ?? randomUUID(),
          env: { ...egress?.execEnv(id) },
        },
        name,
        toSandboxInput[name](input ?? {}),
      );
      await egress?.flush(); // the call's connections are in the egress log before its result is
      const content = egress ? egress.redact(id, outcome.content) : outcome.content;
      if (outcome.isError) throw new ToolError(content);
      return content;
    },
    close: () => (released ??= release()),
  }));
}
