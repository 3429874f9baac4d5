// Where Claude Code comes from and where it keeps its state inside a sandbox. The runtime is the native build that
// the Claude Agent SDK's npm package brings (`@anthropic-ai/claude-agent-sdk-linux-x64`, one self-contained
// executable): the sandbox host bind-mounts its folder read-only into every sandbox, so no image needs rebuilding.
// Claude Code's configuration and session transcripts live under /workspace, so they travel with the workspace's
// snapshots and a recreated container resumes the conversation.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Docker from 'dockerode';

export const claudeRuntimeDir = '/opt/claude-code';
export const claudeExecutable = `${claudeRuntimeDir}/claude`;
/** CLAUDE_CONFIG_DIR inside the sandbox: settings and `projects/<cwd>/<session id>.jsonl` transcripts. */
export const claudeConfigDir = '/workspace/.claude-harness';
export const claudePidFile = '/tmp/claude-harness.pid';

/** The host folder holding the native Claude Code build for this platform, or undefined when it is not installed. */
export function hostClaudeRuntimeDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve(`@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}/package.json`));
  } catch {
    return undefined;
  }
}

/** The read-only mount that puts Claude Code into a sandbox. */
export const claudeRuntimeMount = (hostDir: string): Docker.MountSettings => ({
  Type: 'bind',
  Source: hostDir,
  Target: claudeRuntimeDir,
  ReadOnly: true,
});
