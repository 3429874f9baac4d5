// The built-in tools that run in the session's container (names from Anthropic's agent_toolset_20260401), defined
// once: the workflow offers them to the model and validates calls before a sandbox is acquired; the sandbox activities
// (activities/sandbox/tools.ts) validate again and run them.
import { z } from 'zod';
import type { AgentTool, PermissionPolicy } from '../agent.ts';
import { sandboxToolNames, type SandboxToolName } from '../sandbox.ts';
import { defineTool, type ToolDefinition, type ToolInputOf } from './tool-definition.ts';

export const maxBashTimeoutMs = 600_000;
export const defaultBashTimeoutMs = 120_000;

const path = (description: string) => z.string().min(1).describe(description);

export const sandboxTools = {
  bash: defineTool({
    name: 'bash',
    description:
      'Run a bash command in the sandbox (working directory /workspace). Returns combined stdout and stderr and the ' +
      'exit code. The command and every process it starts are killed at the timeout; start long-running servers ' +
      'with their output redirected (`nohup cmd > /tmp/cmd.log 2>&1 &`). No network unless the environment allows it.',
    input: z.object({
      command: z.string().min(1).describe('The command to run.'),
      timeout_ms: z
        .number()
        .int()
        .positive()
        .max(maxBashTimeoutMs)
        .optional()
        .describe(`Timeout in milliseconds (optional, default ${defaultBashTimeoutMs}, at most ${maxBashTimeoutMs}).`),
    }),
  }),
  read: defineTool({
    name: 'read',
    description:
      'Read a text file from the sandbox, with line numbers (up to 2000 lines; use offset and limit for more). ' +
      'Paths are relative to /workspace.',
    input: z.object({
      path: path('File path.'),
      offset: z.number().int().positive().optional().describe('First line to read, 1-based (optional).'),
      limit: z.number().int().positive().optional().describe('Number of lines to read (optional).'),
    }),
  }),
  write: defineTool({
    name: 'write',
    description:
      'Write a file in the sandbox, creating folders as needed and replacing any existing file. Only /workspace ' +
      '(the default for relative paths) and /tmp are writable.',
    input: z.object({
      path: path('File path.'),
      content: z.string().describe('The whole new content.'),
    }),
  }),
  edit: defineTool({
    name: 'edit',
    description:
      'Replace an exact string in a file. Fails when old_string is absent, or appears more than once and ' +
      'replace_all is not set: then add surrounding lines to old_string to make it unique.',
    input: z.object({
      path: path('File path.'),
      old_string: z.string().describe('The exact text to replace.'),
      new_string: z.string().describe('The replacement text.'),
      replace_all: z.boolean().optional().describe('Replace every occurrence (optional).'),
    }),
  }),
  glob: defineTool({
    name: 'glob',
    description:
      'List files matching a glob pattern (e.g. "src/**/*.ts"; a pattern without a slash matches at any depth), ' +
      'relative to /workspace or to path, newest first. Respects .gitignore.',
    input: z.object({
      pattern: z.string().min(1).describe('Glob pattern.'),
      path: path('Folder to search in (optional).').optional(),
    }),
  }),
  grep: defineTool({
    name: 'grep',
    description:
      'Search file contents with a regular expression (ripgrep syntax). Returns matching lines as ' +
      'file:line:text. Respects .gitignore.',
    input: z.object({
      pattern: z.string().min(1).describe('Regular expression.'),
      path: path('File or folder to search (optional).').optional(),
      glob: z.string().min(1).optional().describe('Only files matching this glob (optional).'),
      ignore_case: z.boolean().optional().describe('Case-insensitive search (optional).'),
    }),
  }),
} satisfies Record<SandboxToolName, ToolDefinition>;

export type SandboxToolInput<Name extends SandboxToolName> = ToolInputOf<(typeof sandboxTools)[Name]>;

/** The sandbox tools an agent's toolsets enable, each with its permission policy. */
export function enabledSandboxTools(tools: AgentTool[]): Map<SandboxToolName, PermissionPolicy['type']> {
  const enabled = new Map<SandboxToolName, PermissionPolicy['type']>();
  for (const tool of tools) {
    if (tool.type !== 'agent_toolset_20260401') continue;
    const defaultEnabled = tool.default_config?.enabled ?? true;
    const defaultPolicy = tool.default_config?.permission_policy?.type ?? 'always_allow';
    for (const name of sandboxToolNames) {
      const config = tool.configs?.find((entry) => entry.name === name);
      if (config?.enabled ?? defaultEnabled) enabled.set(name, config?.permission_policy?.type ?? defaultPolicy);
    }
  }
  return enabled;
}
