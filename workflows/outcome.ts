// Outcomes in the loop: a `user.define_outcome` opens a turn on its task; each time the agent ends its turn, the
// grader activity (a separate model call with its own context) judges the work against the rubric, framed by
// `span.outcome_evaluation_start` / `_ongoing` (while it takes long) / `_end` with the verdict. `needs_revision` puts
// the explanation in the log, where the next turn's request reads it; the last allowed iteration ends with
// `max_iterations_reached` and one acknowledgment turn. An interrupt during grading ends it as `interrupted`.
import { CancellationScope, condition, patched, uuid4 } from '@temporalio/workflow';
import type { EvaluateOutcomeResult } from '../domain/contracts/model-activity.ts';
import type {
  ModelUsageWire,
  OutcomeResult,
  RefusalStopDetails,
  StopReason,
  UserDefineOutcomeEvent,
  UserEvent,
  UserMessageEvent,
} from '../domain/events.ts';
import { makeId } from '../domain/ids.ts';
import { emptyModelUsage, type ModelUsage } from '../domain/model.ts';
import { defaultMaxIterations } from '../domain/outcomes.ts';
import type { SessionSettings } from '../domain/session.ts';
import { modelSideActivities } from './activity-proxies.ts';
import type { CompactionHost } from './compaction.ts';
import type { ModelCallContext } from './model-call.ts';
import type { EventJournal } from './event-journal.ts';

/** Sessions from this patch on pursue outcomes; before it a `user.define_outcome` could not reach a session. */
export const outcomePatch = 'outcome-evaluation';

/** How often a long evaluation says it is still going (`span.outcome_evaluation_ongoing`). */
const ongoingEveryMs = 30_000;

export interface TurnAnswer {
  text: string;
  stop: StopReason;
  /** A refusal's details (the idle status's `stop_details`). */
  stopDetails?: RefusalStopDetails;
}

/** What pursuing an outcome needs from the session (a model call's context, with the turn and the usage). */
export interface OutcomeHost extends ModelCallContext, CompactionHost {
  journal: EventJournal;
  settings: SessionSettings;
  /** Runs one agent turn (model calls and tools) on what the log holds, leaving the session running. */
  runTurn(message?: UserMessageEvent): Promise<TurnAnswer>;
}

const usageWire = (usage: ModelUsage): ModelUsageWire => ({
  input_tokens: usage.inputTokens,
  output_tokens: usage.outputTokens,
  cache_creation_input_tokens: usage.cacheCreationInputTokens,
  cache_read_input_tokens: usage.cacheReadInputTokens,
});

/** The events that queue for the loop (in order); the others answer what awaits them. */
export const queuedTypes = new Set<UserEvent['type']>(['user.message', 'user.define_outcome', 'system.message']);

/** What the loop does with the next queued event: a turn, an outcome's pursuit, or (a system message) just log it. */
export async function takeUp(host: OutcomeHost, event: UserEvent | undefined): Promise<TurnAnswer | undefined> {
  if (event?.type === 'user.message') return host.runTurn(event);
  if (event?.type === 'user.define_outcome') return pursueOutcome(host, event);
  if (event?.type === 'system.message') host.journal.emit(event); // the next turn's request carries it
  return undefined;
}

/** Works on the outcome until the grader is satisfied, gives up, or the turn stops for another reason. */
export async function pursueOutcome(host: OutcomeHost, event: UserDefineOutcomeEvent): Promise<TurnAnswer | undefined> {
  if (!patched(outcomePatch)) return undefined; // (unreachable in practice: older APIs refused the event)
  const outcomeId = event.outcome_id ?? makeId('outcome', uuid4());
  const maxIterations = event.max_iterations ?? defaultMaxIterations;
  host.journal.emit({ ...event, outcome_id: outcomeId, max_iterations: maxIterations });
  const outcomeSeq = host.journal.lastSeq;
  let answer = await host.runTurn();
  for (let iteration = 0; ; iteration++) {
    if (answer.stop.type !== 'end_turn' || host.interrupted()) return answer;
    const start = host.journal.emit({ type: 'span.outcome_evaluation_start', outcome_id: outcomeId, iteration });
    const verdict = await grade(host, { outcomeSeq, evaluationId: start.id, outcomeId, iteration });
    const result: OutcomeResult =
      verdict.result === 'needs_revision' && iteration + 1 >= maxIterations ? 'max_iterations_reached' : verdict.result;
    host.journal.emit({
      type: 'span.outcome_evaluation_end',
      outcome_id: outcomeId,
      iteration,
      outcome_evaluation_start_id: start.id,
      result,
      explanation: verdict.explanation,
      usage: usageWire(verdict.usage),
    });
    if (result !== 'needs_revision' && result !== 'max_iterations_reached') return answer;
    answer = await host.runTurn();
    if (result === 'max_iterations_reached') return answer;
  }
}

type Verdict = Omit<EvaluateOutcomeResult, 'result'> & { result: OutcomeResult };

async function grade(
  host: OutcomeHost,
  at: { outcomeSeq: number; evaluationId: string; outcomeId: string; iteration: number },
): Promise<Verdict> {
  await host.journal.flushed(); // the grader reads the log
  const scope = new CancellationScope();
  host.setCancellable(scope);
  let settled = false;
  const evaluation = scope
    .run(() =>
      modelSideActivities(host.settings).evaluateOutcome({
        ...host.call,
        outcomeSeq: at.outcomeSeq,
        throughSeq: host.journal.lastSeq,
        evaluationId: at.evaluationId,
      }),
    )
    .finally(() => (settled = true));
  evaluation.catch(() => undefined); // awaited below; this only keeps the rejection from counting as unhandled
  try {
    while (!(await condition(() => settled, ongoingEveryMs))) {
      host.journal.emit({ type: 'span.outcome_evaluation_ongoing', outcome_id: at.outcomeId, iteration: at.iteration });
    }
    const verdict = await evaluation;
    host.addUsage(verdict.usage);
    return verdict;
  } catch (error) {
    if (host.interrupted()) return { result: 'interrupted', explanation: 'Interrupted.', usage: emptyModelUsage() };
    const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : '';
    return { result: 'failed', explanation: `The grader could not evaluate: ${message}`, usage: emptyModelUsage() };
  } finally {
    host.setCancellable(undefined);
  }
}
