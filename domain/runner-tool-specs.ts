// How the built-in tools are described to the model when a self-hosted environment's runner executes them: the input
// shapes of the official SDK's runner toolset (`betaAgentToolset20260401`, SDK 1.14.0), which validates and runs them
// in the runner's workdir. They differ from this platform's own sandbox tools (`file_path` rather than `path`), so a
// model in a self-hosted session is offered exactly what the runner accepts.
import type { ToolSpec } from './model.ts';
import type { SandboxToolName } from './sandbox.ts';

const str = { type: 'string' };

export const runnerToolSpecs: Record<SandboxToolName, ToolSpec> = {
  bash: {
    name: 'bash',
    description: 'Run a bash command in a persistent shell. State (cwd, env vars) persists across calls.',
    inputSchema: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The command to run' },
        restart: { type: 'boolean', description: 'Restart the persistent shell before running' },
        timeout_ms: { type: 'integer', description: 'Per-call timeout in milliseconds' },
      },
    },
  },
  read: {
    name: 'read',
    description: 'Read a UTF-8 text file relative to the workdir.',
    inputSchema: {
      type: 'object',
      properties: {
        file_path: str,
        view_range: {
          type: 'array',
          items: { type: 'integer' },
          description: '[start_line, end_line] 1-indexed inclusive',
        },
      },
      required: ['file_path'],
    },
  },
  write: {
    name: 'write',
    description: 'Write a UTF-8 text file relative to the workdir, creating parent directories as needed.',
    inputSchema: { type: 'object', properties: { file_path: str, content: str }, required: ['file_path', 'content'] },
  },
  edit: {
    name: 'edit',
    description: 'Replace old_string with new_string in a file. old_string must be unique unless replace_all.',
    inputSchema: {
      type: 'object',
      properties: { file_path: str, old_string: str, new_string: str, replace_all: { type: 'boolean' } },
      required: ['file_path', 'old_string', 'new_string'],
    },
  },
  glob: {
    name: 'glob',
    description: 'Match files under the workdir against a glob pattern. Results are mtime-sorted, newest first.',
    inputSchema: {
      type: 'object',
      properties: {
        pattern: str,
        path: { type: 'string', description: 'Directory to search in. Defaults to the workdir.' },
      },
      required: ['pattern'],
    },
  },
  grep: {
    name: 'grep',
    description: 'Search file contents for a regex. Uses ripgrep if available, otherwise a built-in walker.',
    inputSchema: { type: 'object', properties: { pattern: str, path: str }, required: ['pattern'] },
  },
};
