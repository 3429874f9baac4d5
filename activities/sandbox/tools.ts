// The sandbox tools (bash, read, write, edit, glob, grep) over a DockerSandbox. Every failure the model can act on
// becomes a ToolOutcome with isError and a sentence saying what to do; only a lost container (SandboxGoneError) and
// infrastructure failures throw. Side-effecting tools run at most once per tool-use id (see exec.ts).
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { isSandboxToolName, type SandboxToolName, type ToolOutcome } from '../../domain/sandbox.ts';
import type { DockerSandbox } from './docker-sandbox.ts';
import { shellQuote, type SandboxExecResult } from './exec.ts';
import { resolveSandboxPath, SandboxPathError, workspaceDir, writablePath } from './files.ts';
import {
  defaultBashTimeoutMs,
  maxBashTimeoutMs,
  sandboxTools,
  type SandboxToolInput,
} from '../../domain/tools/sandbox-tools.ts';
import { checkToolInput } from '../../domain/tools/tool-definition.ts';

/** What a sandbox tool runs against: the container, and the call it serves. */
export interface SandboxToolContext {
  sandbox: DockerSandbox;
  containerId: string;
  toolUseId: string;
  /** Applied to bash commands at exec time (never at create, so warm containers can be shared). */
  env: Record<string, string>;
  onProgress?: () => void;
}

const bashOutputBytes = 30_000;
const searchOutputBytes = 20_000;
const searchTimeoutMs = 60_000;
const writeTimeoutMs = 60_000;
const readMaxLines = 2000;
const readMaxLineChars = 2000;
const readMaxBytes = 256 * 1024;
const globMaxFiles = 100;

const fail = (content: string): ToolOutcome => ({ content, isError: true });
const ok = (content: string): ToolOutcome => ({ content, isError: false });

/** Validates the input (as the workflow did before acquiring the sandbox) and runs one sandbox tool. */
export async function runSandboxTool(call: SandboxToolContext, name: string, input: unknown): Promise<ToolOutcome> {
  if (!isSandboxToolName(name)) return fail(`Unknown sandbox tool "${name}".`);
  const checked = checkToolInput(sandboxTools[name], input);
  if (!checked.ok) return fail(checked.message);
  try {
    return await dispatch(call, name, checked.input);
  } catch (error) {
    if (error instanceof SandboxPathError) return fail(error.message);
    throw error;
  }
}

function dispatch(call: SandboxToolContext, name: SandboxToolName, input: unknown): Promise<ToolOutcome> {
  switch (name) {
    case 'bash':
      return bash(call, input as SandboxToolInput<'bash'>);
    case 'read':
      return read(call, input as SandboxToolInput<'read'>);
    case 'write':
      return write(call, input as SandboxToolInput<'write'>);
    case 'edit':
      return edit(call, input as SandboxToolInput<'edit'>);
    case 'glob':
      return glob(call, input as SandboxToolInput<'glob'>);
    case 'grep':
      return grep(call, input as SandboxToolInput<'grep'>);
  }
}

/** A directory name for the tool-use id: readable, safe, and unique even after sanitising. */
export function execIdFor(toolUseId: string): string {
  const readable = toolUseId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const hash = createHash('sha256').update(toolUseId).digest('hex').slice(0, 8);
  return `${readable}-${hash}`;
}

async function bash(call: SandboxToolContext, input: SandboxToolInput<'bash'>): Promise<ToolOutcome> {
  const timeoutMs = Math.min(input.timeout_ms ?? defaultBashTimeoutMs, maxBashTimeoutMs);
  const result = await call.sandbox.exec(call.containerId, {
    command: input.command,
    env: call.env,
    timeoutMs,
    maxOutputBytes: bashOutputBytes,
    execId: execIdFor(call.toolUseId),
    onProgress: call.onProgress,
  });
  let content = result.output.length > 0 ? result.output : '(no output)';
  if (result.timedOut) {
    content += `\n\nCommand timed out after ${timeoutMs} ms; it and every process it started were killed.`;
  } else if (result.exitCode === 137) {
    content +=
      '\n\nExit code 137: the command was killed (SIGKILL), most often by the sandbox memory limit. Use less memory ' +
      'or process the data in smaller pieces.';
  } else if (result.exitCode !== 0) {
    content += `\n\nExit code ${result.exitCode}`;
  }
  return { content, isError: result.exitCode !== 0 || result.timedOut || result.backgroundStopped };
}

const readScript = String.raw`
p=$1 offset=$2 limit=$3 max=$4
[ -e "$p" ] || exit 10
[ -d "$p" ] && exit 11
[ -r "$p" ] || exit 12
awk 'END { print NR }' "$p" || exit 12
tail -n "+$offset" -- "$p" | head -n "$limit" | head -c "$max"
`;

async function read(call: SandboxToolContext, input: SandboxToolInput<'read'>): Promise<ToolOutcome> {
  const absolute = resolveSandboxPath(input.path);
  const offset = input.offset ?? 1;
  const limit = Math.min(input.limit ?? readMaxLines, readMaxLines);
  const result = await call.sandbox.runProcess(call.containerId, {
    argv: ['bash', '-c', readScript, 'read', absolute, String(offset), String(limit), String(readMaxBytes)],
    maxBytes: readMaxBytes + 64,
  });
  if (result.exitCode === 10) return fail(`File does not exist: ${input.path} (relative paths start at /workspace).`);
  if (result.exitCode === 11) return fail(`${input.path} is a folder, not a file; use glob to list its files.`);
  if (result.exitCode !== 0) return fail(`Cannot read ${input.path}: ${result.stderr.toString('utf8').trim()}`);
  const newline = result.stdout.indexOf(10);
  const totalLines = Number(result.stdout.subarray(0, newline).toString('utf8'));
  const body = result.stdout.subarray(newline + 1);
  if (body.includes(0)) return fail(`${input.path} looks like a binary file; read only shows text files.`);
  if (totalLines === 0) return ok(`(${input.path} is empty)`);
  if (offset > totalLines) {
    return fail(`${input.path} has ${totalLines} lines; offset ${offset} is past its end.`);
  }
  const text = body.toString('utf8');
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  // When the byte cap cut the last line short, drop it rather than show half a line.
  const cut = body.length >= readMaxBytes && !text.endsWith('\n');
  if (cut && lines.length > 1) lines.pop();
  const numbered = lines.map((line, index) => {
    const shown = line.length > readMaxLineChars ? `${line.slice(0, readMaxLineChars)}... [line truncated]` : line;
    return `${String(offset + index).padStart(6)}\t${shown}`;
  });
  const lastShown = offset + lines.length - 1;
  if (lastShown < totalLines) {
    numbered.push(
      `\n[${totalLines - lastShown} more lines; read on with offset=${lastShown + 1}` +
        `${cut ? ' (output was capped at 256 KiB)' : ''}]`,
    );
  }
  return ok(numbered.join('\n'));
}

const writeScript = String.raw`
target=$1 expected=$2
if [ -d "$target" ]; then echo "$target is a folder, not a file."; exit 3; fi
if [ -n "$expected" ]; then
  actual=$(sha256sum < "$target" 2>/dev/null | cut -d' ' -f1)
  if [ "$actual" != "$expected" ]; then echo "$target changed while it was being edited; read it again."; exit 4; fi
fi
if [ -e "$target" ]; then verb=Updated; else verb=Created; fi
mkdir -p -- "$(dirname -- "$target")" || exit 5
cat > "$target" || exit 5
echo "$verb"
`;

/** Writes content at most once per tool-use id; with `expectedSha256`, only if the file is still as it was read. */
async function writeOnce(
  call: SandboxToolContext,
  absolute: string,
  content: Buffer,
  expectedSha256 = '',
): Promise<SandboxExecResult> {
  return call.sandbox.exec(call.containerId, {
    command: `bash -c ${shellQuote(writeScript)} write ${shellQuote(absolute)} ${shellQuote(expectedSha256)}`,
    timeoutMs: writeTimeoutMs,
    maxOutputBytes: 4096,
    execId: execIdFor(call.toolUseId),
    stdin: content,
    onProgress: call.onProgress,
  });
}

async function write(call: SandboxToolContext, input: SandboxToolInput<'write'>): Promise<ToolOutcome> {
  const absolute = writablePath(input.path);
  const content = Buffer.from(input.content, 'utf8');
  const result = await writeOnce(call, absolute, content);
  if (result.exitCode !== 0) return fail(`Cannot write ${input.path}: ${result.output.trim()}`);
  const verb = result.output.trim() === 'Updated' ? 'Updated' : 'Created';
  return ok(`${verb} ${input.path} (${content.length} bytes).`);
}

async function edit(call: SandboxToolContext, input: SandboxToolInput<'edit'>): Promise<ToolOutcome> {
  const absolute = writablePath(input.path);
  // A retry must return the first attempt's verdict: re-reading would find the edit already applied.
  const recorded = await call.sandbox.recordedExec(call.containerId, execIdFor(call.toolUseId), {
    waitMs: writeTimeoutMs,
    maxOutputBytes: 4096,
    onProgress: call.onProgress,
  });
  if (recorded) return editOutcome(input, recorded, undefined);
  if (input.old_string.length === 0) {
    return fail('old_string is empty; use write to create a file or replace its whole content.');
  }
  if (input.old_string === input.new_string) return fail('old_string and new_string are identical; nothing to change.');
  const original = await call.sandbox.readFile(call.containerId, absolute);
  const text = original.toString('utf8');
  if (original.includes(0) || !Buffer.from(text, 'utf8').equals(original)) {
    return fail(`${input.path} is not a UTF-8 text file; edit only changes text files.`);
  }
  const occurrences = text.split(input.old_string).length - 1;
  if (occurrences === 0) {
    return fail(
      `old_string was not found in ${input.path}. Read the file and copy the text exactly, including whitespace ` +
        'and indentation.',
    );
  }
  if (occurrences > 1 && !input.replace_all) {
    return fail(
      `old_string was found ${occurrences} times in ${input.path}; add surrounding context to make it unique, or ` +
        'set replace_all to replace every occurrence.',
    );
  }
  const updated = input.replace_all
    ? text.split(input.old_string).join(input.new_string)
    : replaceFirst(text, input.old_string, input.new_string);
  const expected = createHash('sha256').update(original).digest('hex');
  const result = await writeOnce(call, absolute, Buffer.from(updated, 'utf8'), expected);
  return editOutcome(input, result, occurrences);
}

function editOutcome(
  input: SandboxToolInput<'edit'>,
  result: SandboxExecResult,
  occurrences: number | undefined,
): ToolOutcome {
  if (result.exitCode !== 0) return fail(`Cannot edit ${input.path}: ${result.output.trim()}`);
  if (occurrences === undefined) return ok(`Edited ${input.path}.`);
  return ok(`Edited ${input.path}: replaced ${occurrences} occurrence${occurrences === 1 ? '' : 's'}.`);
}

const replaceFirst = (text: string, search: string, replacement: string): string => {
  const at = text.indexOf(search);
  return text.slice(0, at) + replacement + text.slice(at + search.length);
};

/** Search results are shown relative to /workspace when they are inside it, absolute otherwise. */
function shownFolder(absolute: string): string {
  if (absolute === workspaceDir) return '';
  return absolute.startsWith(`${workspaceDir}/`) ? absolute.slice(workspaceDir.length + 1) : absolute;
}

async function glob(call: SandboxToolContext, input: SandboxToolInput<'glob'>): Promise<ToolOutcome> {
  const folder = resolveSandboxPath(input.path ?? workspaceDir);
  const command =
    `cd -- ${shellQuote(folder)} || exit 3\n` +
    `rg --files --hidden --glob '!.git' --glob ${shellQuote(input.pattern)} --sortr modified 2>&1`;
  const result = await call.sandbox.exec(call.containerId, {
    command,
    timeoutMs: searchTimeoutMs,
    maxOutputBytes: searchOutputBytes,
    onProgress: call.onProgress,
  });
  if (result.exitCode === 3) return fail(`Folder does not exist: ${input.path ?? workspaceDir}`);
  if (result.timedOut) return fail(`glob timed out after ${searchTimeoutMs} ms; narrow the pattern or the path.`);
  if (result.exitCode === 2) return fail(`glob failed: ${result.output.trim()}`);
  const prefix = shownFolder(folder);
  const files = result.output
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('[... output truncated'))
    .map((line) => (prefix ? posix.join(prefix, line) : line));
  if (files.length === 0) return ok('No files found.');
  const shown = files.slice(0, globMaxFiles);
  const more = files.length - shown.length;
  return ok(
    shown.join('\n') + (more > 0 || result.truncated ? `\n[more files not shown; narrow the pattern or the path]` : ''),
  );
}

async function grep(call: SandboxToolContext, input: SandboxToolInput<'grep'>): Promise<ToolOutcome> {
  // Always name a path: without one, ripgrep searches stdin whenever stdin is not a terminal.
  const target = input.path ? shellQuote(input.path) : '.';
  const options = [
    '--line-number',
    '--no-heading',
    '--color=never',
    '--hidden',
    "--glob '!.git'",
    '--max-columns=500',
    '--max-columns-preview',
    input.ignore_case ? '--ignore-case' : '',
    input.glob ? `--glob ${shellQuote(input.glob)}` : '',
  ].filter(Boolean);
  const result = await call.sandbox.exec(call.containerId, {
    command: `rg ${options.join(' ')} -e ${shellQuote(input.pattern)} -- ${target}`,
    timeoutMs: searchTimeoutMs,
    maxOutputBytes: searchOutputBytes,
    onProgress: call.onProgress,
  });
  if (result.timedOut) return fail(`grep timed out after ${searchTimeoutMs} ms; narrow the path or the glob.`);
  if (result.exitCode === 1) return ok('No matches found.');
  if (result.exitCode !== 0) return fail(`grep failed: ${result.output.trim()}`);
  const lines = result.output.replace(/\n$/, '').split('\n');
  return ok(lines.map((line) => (input.path ? line : line.replace(/^\.\//, ''))).join('\n'));
}
