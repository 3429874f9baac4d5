// Model calls beside the agent's turn, each with a context of its own: the outcome grader (judges the work since a
// `user.define_outcome` against its rubric), the context summariser (compaction: summarises older events into a
// stored summary that later requests carry instead) — both read the event log — and the advisor (answers the primary
// thread's question, which is all it sees). None streams deltas.
import type pg from 'pg';
import { readContextSummary, saveContextSummary } from '../../db/repositories/context-summaries.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { chooseCut, estimateTokens, summariserSystemPrompt } from '../../domain/compaction.ts';
import type {
  ConsultAdvisorInput,
  ConsultAdvisorResult,
  CompactContextInput,
  CompactContextResult,
  EvaluateOutcomeInput,
  EvaluateOutcomeResult,
} from '../../domain/contracts/model-activity.ts';
import type { ModelResponse } from '../../domain/model.ts';
import { advisorSystemPrompt } from '../../domain/tools/advisor-tool.ts';
import { graderPrompt, graderSystemPrompt, readVerdict, verdictTool, verdictToolName } from '../../domain/outcomes.ts';
import { buildTranscript, summaryPreamble, transcriptText } from '../../domain/transcript.ts';
import type { CallProvider } from './provider-call.ts';

const textOf = (response: ModelResponse): string =>
  response.content.map((block) => (block.type === 'text' ? block.text : '')).join('');

export function createSideCallActivities(pool: pg.Pool, callProvider: CallProvider) {
  return {
    /** The grader: a fresh request (its own system prompt, one user message), answered through the verdict tool. */
    async evaluateOutcome(input: EvaluateOutcomeInput): Promise<EvaluateOutcomeResult> {
      const events = await readEvents(pool, input.sessionId, {
        afterSeq: input.outcomeSeq - 1,
        throughSeq: input.throughSeq,
      });
      const outcome = events[0]?.event;
      if (outcome?.type !== 'user.define_outcome') {
        throw new Error(`event ${input.outcomeSeq} of ${input.sessionId} is not a user.define_outcome`);
      }
      const work = transcriptText(buildTranscript(events.slice(1).map((journaled) => journaled.event)));
      const response = await callProvider({
        ...input,
        entryKey: `grader:${input.evaluationId}`,
        system: graderSystemPrompt,
        messages: [
          {
            role: 'user',
            content: [{ type: 'text', text: graderPrompt(outcome.description, outcome.rubric.content, work) }],
          },
        ],
        tools: [verdictTool],
      });
      const call = response.content.find((block) => block.type === 'tool_use' && block.name === verdictToolName);
      const verdict = readVerdict(call?.type === 'tool_use' ? call.input : undefined, textOf(response));
      return { ...verdict, usage: response.usage };
    },

    /** The advisor: its own request, the question as the only message. */
    async consultAdvisor(input: ConsultAdvisorInput): Promise<ConsultAdvisorResult> {
      const response = await callProvider({
        ...input,
        entryKey: `advisor:${input.toolUseId}`,
        system: advisorSystemPrompt,
        messages: [{ role: 'user', content: [{ type: 'text', text: input.question }] }],
        tools: [],
      });
      return { text: textOf(response).trim() || '(the advisor gave no answer)', usage: response.usage };
    },

    /** The summariser: the events before the cut (and the summary before them) become one new stored summary. */
    async compactContext(input: CompactContextInput): Promise<CompactContextResult> {
      const previous = input.context ? await readContextSummary(pool, input.context.summaryId) : undefined;
      const events = await readEvents(pool, input.sessionId, {
        afterSeq: input.context?.afterSeq,
        throughSeq: input.throughSeq,
      });
      const cut = chooseCut(events, input.keepTokens);
      const lastSummarised = cut === undefined ? undefined : events[cut - 1];
      if (cut === undefined || !lastSummarised) return { kind: 'no_room' };
      const older = transcriptText(
        buildTranscript(
          events.slice(0, cut).map((journaled) => journaled.event),
          { summary: previous },
        ),
      );
      const response = await callProvider({
        ...input,
        entryKey: `compaction:${input.summaryId}`,
        system: summariserSystemPrompt,
        messages: [{ role: 'user', content: [{ type: 'text', text: older }] }],
        tools: [],
      });
      const summary = await saveContextSummary(pool, {
        id: input.summaryId,
        sessionId: input.sessionId,
        afterSeq: lastSummarised.seq,
        text: textOf(response).trim() || '(nothing to summarise)',
      });
      const kept = buildTranscript(
        events.slice(cut).map((journaled) => journaled.event),
        { summary },
      );
      return {
        kind: 'compacted',
        context: { summaryId: input.summaryId, afterSeq: lastSummarised.seq },
        estimatedTokens: estimateTokens(JSON.stringify(kept).length + summaryPreamble('').length),
        usage: response.usage,
      };
    },
  };
}
