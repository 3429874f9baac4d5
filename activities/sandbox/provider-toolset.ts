// Provider mode's toolset: the built-in tools a self-hosted environment's runner serves, run in this platform's Docker
// sandboxes instead of the runner's own machine. Given to the official SDK's runner (`worker({ tools })`), which does
// the protocol (poll, lease, event stream, results); each session gets its own hardened container, kept (paused)
// between work items so its /workspace survives, found again by its session label. Inputs arrive in the runner's
// shapes (`file_path`) and are mapped onto the sandbox tools'; a call re-delivered to a new runner with the same
// tool-use id returns the recorded result instead of running twice (the sandbox's at-most-once exec).
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import type { BetaTool } from '@anthropic-ai/sdk/resources/beta/messages/messages';
import type { BetaRunnableTool } from '@anthropic-ai/sdk/lib/tools/BetaRunnableTool';
import { ToolError } from '@anthropic-ai/sdk/lib/tools/ToolError';
import { runnerToolSpecs } from '../../domain/tools/runner-tools.ts';
import { sandboxToolNames, type SandboxSpec, type SandboxToolName } from '../../domain/sandbox.ts';
import { DockerSandbox } from './docker-sandbox.ts';
import { sandboxLabels } from './container-spec.ts';
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

const providerTenant = 'provider';

export class ProviderSandboxes {
  readonly sandbox: DockerSandbox;
  private readonly docker: Docker;
  private readonly spec: SandboxSpec;

  constructor(docker: Docker, spec: SandboxSpec, extraLabels: Record<string, string> = {}) {
    this.docker = docker;
    this.spec = spec;
    this.sandbox = new DockerSandbox(docker, { extraLabels });
  }

  /** The session's container: the one it had (resumed), or a new one. */
  async containerFor(sessionId: string): Promise<string> {
    const [existing] = await this.docker.listContainers({
      all: true,
      filters: { label: [`${sandboxLabels.session}=${sessionId}`] },
    });
    if (!existing) return this.sandbox.create(this.spec, { tenantId: providerTenant, sessionId });
    if (existing.State === 'paused') await this.sandbox.unpause(existing.Id);
    else if (existing.State !== 'running') await this.docker.getContainer(existing.Id).start();
    return existing.Id;
  }

  /** Between work items the container is paused: no CPU, its workspace kept. */
  async release(containerId: string): Promise<void> {
    await this.sandbox.pause(containerId).catch(() => undefined);
  }
}

/** The six tools for one session, bound to its container (created at the first call). */
export function providerToolset(sandboxes: ProviderSandboxes, sessionId: string): BetaRunnableTool[] {
  let container: Promise<string> | undefined;
  const containerId = () => (container ??= sandboxes.containerFor(sessionId));
  return sandboxToolNames.map((name): BetaRunnableTool => ({
    type: 'custom',
    name,
    description: runnerToolSpecs[name].description,
    input_schema: runnerToolSpecs[name].inputSchema as BetaTool['input_schema'],
    parse: (content: unknown) => content as Input,
    run: async (input: Input, context) => {
      const outcome = await runSandboxTool(
        {
          sandbox: sandboxes.sandbox,
          containerId: await containerId(),
          toolUseId: context?.toolUse?.id ?? randomUUID(),
          env: {},
        },
        name,
        toSandboxInput[name](input ?? {}),
      );
      if (outcome.isError) throw new ToolError(outcome.content);
      return outcome.content;
    },
    close: async () => {
      if (container) await sandboxes.release(await container);
    },
  }));
}
