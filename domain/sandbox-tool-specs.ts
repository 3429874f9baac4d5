// How the built-in sandbox tools are described to the model (names from Anthropic's agent_toolset_20260401).
// The sandbox activities validate inputs against the same shapes (activities/sandbox); a test keeps them in step.
import type { ToolSpec } from './model.ts';
import type { SandboxToolName } from './sandbox.ts';

const str = (description: string) => ({ type: 'string', description });
const int = (description: string) => ({ type: 'integer', description });

export const sandboxToolSpecs: Record<SandboxToolName, ToolSpec> = {
  bash: {
    name: 'bash',
    description:
      'Run a bash command in the sandbox (working directory /workspace). Returns combined stdout and stderr and the exit code.',
    inputSchema: {
      type: 'object',
      properties: { command: str('The command to run.'), timeout_ms: int('Timeout in milliseconds (optional).') },
      required: ['command'],
    },
  },
  read: {
    name: 'read',
    description: 'Read a text file from the sandbox, with line numbers. Paths are relative to /workspace.',
    inputSchema: {
      type: 'object',
      properties: {
        path: str('File path.'),
        offset: int('First line to read, 1-based (optional).'),
        limit: int('Number of lines to read (optional).'),
      },
      required: ['path'],
    },
  },
  write: {
    name: 'write',
    description: 'Write a file in the sandbox, creating folders as needed and replacing any existing file.',
    inputSchema: {
      type: 'object',
      properties: { path: str('File path.'), content: str('The whole new content.') },
      required: ['path', 'content'],
    },
  },
  edit: {
    name: 'edit',
    description:
      'Replace an exact string in a file. Fails when old_string is absent, or appears more than once and replace_all is not set.',
    inputSchema: {
      type: 'object',
      properties: {
        path: str('File path.'),
        old_string: str('The exact text to replace.'),
        new_string: str('The replacement text.'),
        replace_all: { type: 'boolean', description: 'Replace every occurrence (optional).' },
      },
      required: ['path', 'old_string', 'new_string'],
    },
  },
  glob: {
    name: 'glob',
    description: 'List files matching a glob pattern (e.g. "src/**/*.ts"), relative to /workspace or to path.',
    inputSchema: {
      type: 'object',
      properties: { pattern: str('Glob pattern.'), path: str('Folder to search in (optional).') },
      required: ['pattern'],
    },
  },
  grep: {
    name: 'grep',
    description:
      'Search file contents with a regular expression (ripgrep). Returns matching lines with file and line number.',
    inputSchema: {
      type: 'object',
      properties: {
        pattern: str('Regular expression.'),
        path: str('File or folder to search (optional).'),
        glob: str('Only files matching this glob (optional).'),
        ignore_case: { type: 'boolean', description: 'Case-insensitive search (optional).' },
      },
      required: ['pattern'],
    },
  },
};
