// The built-in tools as a self-hosted environment's runner takes them: the input shapes of the official SDK's runner
// toolset (`betaAgentToolset20260401`, SDK 1.14.0), which validates and runs them in the runner's workdir. They differ
// from this platform's sandbox tools (`file_path` rather than `path`), so a model in a self-hosted session is offered
// exactly what the runner accepts; provider mode (activities/sandbox/provider-toolset.ts) maps them onto the sandbox
// tools. The runner validates; the definitions here describe.
import { z } from 'zod';
import type { ToolSpec } from '../model.ts';
import { sandboxToolNames, type SandboxToolName } from '../sandbox.ts';
import { defineTool, toolSpecOf, type ToolDefinition } from './tool-definition.ts';

const filePath = z.string();

export const runnerTools = {
  bash: defineTool({
    name: 'bash',
    description: 'Run a bash command in a persistent shell. State (cwd, env vars) persists across calls.',
    input: z.object({
      command: z.string().optional().describe('The command to run'),
      restart: z.boolean().optional().describe('Restart the persistent shell before running'),
      timeout_ms: z.number().int().optional().describe('Per-call timeout in milliseconds'),
    }),
  }),
  read: defineTool({
    name: 'read',
    description: 'Read a UTF-8 text file relative to the workdir.',
    input: z.object({
      file_path: filePath,
      view_range: z.array(z.number().int()).optional().describe('[start_line, end_line] 1-indexed inclusive'),
    }),
  }),
  write: defineTool({
    name: 'write',
    description: 'Write a UTF-8 text file relative to the workdir, creating parent directories as needed.',
    input: z.object({ file_path: filePath, content: z.string() }),
  }),
  edit: defineTool({
    name: 'edit',
    description: 'Replace old_string with new_string in a file. old_string must be unique unless replace_all.',
    input: z.object({
      file_path: filePath,
      old_string: z.string(),
      new_string: z.string(),
      replace_all: z.boolean().optional(),
    }),
  }),
  glob: defineTool({
    name: 'glob',
    description: 'Match files under the workdir against a glob pattern. Results are mtime-sorted, newest first.',
    input: z.object({
      pattern: z.string(),
      path: z.string().optional().describe('Directory to search in. Defaults to the workdir.'),
    }),
  }),
  grep: defineTool({
    name: 'grep',
    description: 'Search file contents for a regex. Uses ripgrep if available, otherwise a built-in walker.',
    input: z.object({ pattern: z.string(), path: z.string().optional() }),
  }),
} satisfies Record<SandboxToolName, ToolDefinition>;

/** What the model is offered for each runner tool (JSON schema derived from the definitions above). */
export const runnerToolSpecs = Object.fromEntries(
  sandboxToolNames.map((name) => [name, toolSpecOf(runnerTools[name])]),
) as Record<SandboxToolName, ToolSpec>;
