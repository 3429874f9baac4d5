// Where Codex comes from and where it keeps its state inside a sandbox. The runtime is the native build that the
// `@openai/codex` npm package brings as its optional dependency (`@openai/codex-linux-x64`: a static musl `codex`
// with its `rg` beside it): the sandbox host bind-mounts that folder read-only into every sandbox, as it does Claude
// Code's, so no image needs rebuilding. Codex's home (its rollout files — the conversation — and the platform's note
// of which thread is the session's) lives under /workspace, so it travels with the workspace's snapshots and a
// recreated container or a restarted worker resumes the thread.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';

export const codexRuntimeDir = '/opt/codex';
export const codexExecutable = `${codexRuntimeDir}/bin/codex`;
/** CODEX_HOME (and HOME) inside the sandbox: `sessions/…/rollout-*.jsonl`, Codex's own state. */
export const codexHome = '/workspace/.codex-harness';
/** The session's Codex thread id, written when the thread starts, read when a new process resumes it. */
export const codexThreadFile = `${codexHome}/platform-thread-id`;
export const codexPidFile = '/tmp/codex-harness.pid';

const vendorTriples: Record<string, string> = {
  'linux-x64': 'x86_64-unknown-linux-musl',
  'linux-arm64': 'aarch64-unknown-linux-musl',
};

/** The host folder holding the native Codex build for this platform, or undefined when it is not installed. */
export function hostCodexRuntimeDir(): string | undefined {
  const triple = vendorTriples[`${process.platform}-${process.arch}`];
  if (!triple) return undefined;
  try {
    const require = createRequire(import.meta.url);
    const packageDir = dirname(require.resolve(`@openai/codex-${process.platform}-${process.arch}/package.json`));
    return join(packageDir, 'vendor', triple);
  } catch {
    return undefined;
  }
}

/** The read-only mount that puts Codex into a sandbox. */
export const codexRuntimeMount = (hostDir: string): Docker.MountSettings => ({
  Type: 'bind',
  Source: hostDir,
  Target: codexRuntimeDir,
  ReadOnly: true,
});
