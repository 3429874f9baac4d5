// The sandbox tools' inputs, defined once with zod: validated in the activity, and turned into the JSON schemas the
// model is offered (domain/sandbox-tool-specs.ts holds the workflow's copy; a test keeps the two in step).
import { z } from 'zod';
import type { ToolSpec } from '../../domain/model.ts';
import type { SandboxToolName } from '../../domain/sandbox.ts';

export const maxBashTimeoutMs = 600_000;
export const defaultBashTimeoutMs = 120_000;

export const sandboxToolInputs = {
  bash: z.object({
    command: z.string().min(1).describe('The command to run.'),
    timeout_ms: z
      .number()
      .int()
      .positive()
      .max(maxBashTimeoutMs)
      .optional()
      .describe(`Timeout in milliseconds (optional, default ${defaultBashTimeoutMs}, at most ${maxBashTimeoutMs}).`),
  }),
  read: z.object({
    path: z.string().min(1).describe('File path.'),
    offset: z.number().int().positive().optional().describe('First line to read, 1-based (optional).'),
    limit: z.number().int().positive().optional().describe('Number of lines to read (optional).'),
  }),
  write: z.object({
    path: z.string().min(1).describe('File path.'),
    content: z.string().describe('The whole new content.'),
  }),
  edit: z.object({
    path: z.string().min(1).describe('File path.'),
    old_string: z.string().describe('The exact text to replace.'),
    new_string: z.string().describe('The replacement text.'),
    replace_all: z.boolean().optional().describe('Replace every occurrence (optional).'),
  }),
  glob: z.object({
    pattern: z.string().min(1).describe('Glob pattern.'),
    path: z.string().min(1).optional().describe('Folder to search in (optional).'),
  }),
  grep: z.object({
    pattern: z.string().min(1).describe('Regular expression.'),
    path: z.string().min(1).optional().describe('File or folder to search (optional).'),
    glob: z.string().min(1).optional().describe('Only files matching this glob (optional).'),
    ignore_case: z.boolean().optional().describe('Case-insensitive search (optional).'),
  }),
} satisfies Record<SandboxToolName, z.ZodType>;

export type SandboxToolInput<Name extends SandboxToolName> = z.infer<(typeof sandboxToolInputs)[Name]>;

const descriptions: Record<SandboxToolName, string> = {
  bash:
    'Run a bash command in the sandbox (working directory /workspace). Returns combined stdout and stderr and the ' +
    'exit code. The command and every process it starts are killed at the timeout; start long-running servers ' +
    'with their output redirected (`nohup cmd > /tmp/cmd.log 2>&1 &`). No network unless the environment allows it.',
  read:
    'Read a text file from the sandbox, with line numbers (up to 2000 lines; use offset and limit for more). ' +
    'Paths are relative to /workspace.',
  write:
    'Write a file in the sandbox, creating folders as needed and replacing any existing file. Only /workspace ' +
    '(the default for relative paths) and /tmp are writable.',
  edit:
    'Replace an exact string in a file. Fails when old_string is absent, or appears more than once and ' +
    'replace_all is not set: then add surrounding lines to old_string to make it unique.',
  glob:
    'List files matching a glob pattern (e.g. "src/**/*.ts"; a pattern without a slash matches at any depth), ' +
    'relative to /workspace or to path, newest first. Respects .gitignore.',
  grep:
    'Search file contents with a regular expression (ripgrep syntax). Returns matching lines as ' +
    'file:line:text. Respects .gitignore.',
};

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}

/** The tools as the model is offered them: name, description, JSON schema of the input. */
export const sandboxToolSpecs: Record<SandboxToolName, ToolSpec> = Object.fromEntries(
  (Object.keys(sandboxToolInputs) as SandboxToolName[]).map((name) => [
    name,
    { name, description: descriptions[name], inputSchema: jsonSchemaOf(sandboxToolInputs[name]) },
  ]),
) as Record<SandboxToolName, ToolSpec>;

/** Turns zod issues into one sentence the model can act on. */
export function describeInputError(name: string, error: z.ZodError): string {
  const problems = error.issues.map((issue) => {
    const field = issue.path.join('.') || 'input';
    return `${field}: ${issue.message}`;
  });
  return `Invalid input for ${name}: ${problems.join('; ')}.`;
}
