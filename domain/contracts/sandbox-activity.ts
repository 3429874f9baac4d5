// The sandbox activities' contract (activities/sandbox/activities.ts implements them; workflows/sandbox-lease.ts calls
// them). Results: a SandboxLease from createSandbox, a ToolOutcome from runTool (domain/sandbox.ts), a snapshot id.
import type { CredentialHostUnreachable } from '../egress.ts';
import type { SandboxLease, SandboxOwner, SandboxSpec, ToolOutcome } from '../sandbox.ts';
import type { RepositoryFailure } from '../session-resources.ts';
import type { EnvironmentPackages } from '../session.ts';
import type { JournalBatch } from './journal-batch.ts';

/** What createSandbox returns: the lease, and what the session should report about the sandbox's egress. */
export interface CreatedSandbox extends SandboxLease {
  /** Credentials the environment's network policy keeps from their hosts (`credential_host_unreachable_error`). */
  unreachableCredentials?: CredentialHostUnreachable[];
  /** github_repository resources the sandbox did not receive (`repository_*_error`); absent when none. */
  repositoryErrors?: RepositoryFailure[];
}

/** What runTool returns: the tool's outcome, and repositories a resource change brought that could not be fetched. */
export interface RunToolResult extends ToolOutcome {
  repositoryErrors?: RepositoryFailure[];
}

export interface CreateSandboxInput {
  spec: SandboxSpec;
  owner: SandboxOwner;
  /** Restore /workspace from this snapshot instead of starting empty. */
  snapshotId?: string;
  /** The environment's packages: the container runs from spec.image with these installed (built once per host). */
  packages?: EnvironmentPackages;
  /** The agent's skills: their files are written read-only under /mnt/session/skills/<name>/ (domain/skills.ts). */
  skills?: SkillMount[];
}

/** A pinned skill version to write into the sandbox. */
export interface SkillMount {
  skillId: string;
  version: string;
  name: string;
}

export interface PrepareEnvironmentImageInput {
  baseImage: string;
  packages: EnvironmentPackages;
}

/** What prepareEnvironmentImage returns. */
export interface EnvironmentImage {
  /** The tag to create containers from. */
  image: string;
  /** False when the image was already on this host. */
  built: boolean;
}

export interface RunToolInput {
  lease: SandboxLease;
  /** The model's tool-use id: a retried activity with the same id never applies a side effect twice. */
  toolUseId: string;
  name: string;
  input: Record<string, unknown>;
  env: Record<string, string>;
  /** The session's last events, not yet in the journal: written first (idempotently; workflows/event-journal.ts). */
  unwrittenEvents?: JournalBatch;
}

/** Input of pauseSandbox, resumeSandbox and snapshotSandbox. */
export interface SandboxLeaseInput {
  lease: SandboxLease;
}

export interface DestroySandboxInput {
  lease?: SandboxLease;
  owner: SandboxOwner;
  deleteSnapshots: boolean;
}
