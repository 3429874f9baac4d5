// Continue-as-new of a session run: when it is due, and the state the next run carries over (state, not history).
import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import type { ModelUsage } from '../domain/model.ts';
import type { CarriedSessionState, QueuedEvent, SessionStats, SessionWorkflowInput } from '../domain/session.ts';
import type { ContextCompactor } from './compaction.ts';
import type { EventIdMemory } from './event-id-memory.ts';
import type { EventJournal } from './event-journal.ts';
import type { McpSessionTools } from './mcp-session.ts';
import { continueAsNewPlaced, regionQueueToMoveTo } from './region-placement.ts';
import type { SandboxLeaseManager } from './sandbox-lease.ts';
import type { SessionStatusTracker } from './session-status.ts';
import type { SessionThreads } from './threads.ts';

/** The parts of a session run whose state the next run carries; read after the quiet point is reached. */
export interface CarrySources {
  input: SessionWorkflowInput;
  journal: EventJournal;
  status: SessionStatusTracker;
  sandbox: SandboxLeaseManager;
  seen: EventIdMemory;
  mcp: McpSessionTools;
  context: ContextCompactor;
  threads: SessionThreads;
  queue: QueuedEvent[];
  stats: SessionStats;
  usage: () => ModelUsage;
  /** A termination or an interrupt arrived: this run handles it first. */
  busy: () => boolean;
}

/** Due when Temporal suggests it, every N turns if so set, or once the session moved to another region. */
export function continueAsNewDue(input: SessionWorkflowInput, turnsThisRun: number, regionAtStart?: string): boolean {
  const every = input.settings.continueAsNewEveryTurns;
  const moved = regionQueueToMoveTo(input.settings, regionAtStart) !== undefined;
  return moved || workflowInfo().continueAsNewSuggested || (every > 0 && turnsThisRun >= every);
}

/** Continue-as-new at a quiet point (idle, handlers done, journal flushed), carrying state, not history. */
export async function continueSessionAsNew(sources: CarrySources): Promise<void> {
  const { input, journal } = sources;
  await condition(allHandlersFinished);
  await journal.flushed();
  // What the carried state cannot hold is handled in this run first: a termination or an interrupt that arrived
  // meanwhile (a signal racing the continue-as-new is delivered to this run, on the retried workflow task).
  if (sources.busy()) return;
  const { mcp, context, threads } = sources;
  const carried: CarriedSessionState = {
    nextSeq: journal.seqToCarry,
    usage: sources.usage(),
    stats: { ...sources.stats, activeMs: sources.status.currentActiveMs() },
    lease: sources.sandbox.lease,
    lastSnapshotId: sources.sandbox.lastSnapshotId,
    seenEventIds: sources.seen.toCarry(),
    queue: sources.queue,
    runsSoFar: (input.carried?.runsSoFar ?? 0) + 1,
    ...(mcp.carried ? { mcpCatalog: mcp.carried } : {}),
    ...(context.carried ? { context: context.carried } : {}),
    ...(threads.toCarry() ? { threads: threads.toCarry() } : {}),
  };
  // A session that moved to another region goes on in that region's session queue (workflows/region-placement.ts).
  await continueAsNewPlaced({ ...input, initialEvents: undefined, carried }, sources.sandbox.regionAtStart);
}
