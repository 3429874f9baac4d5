// The dream activities' contract (activities/dreams/activities.ts implements it; workflows/dream-workflow.ts calls it).
import type { DreamStatus, DreamWrite } from '../dreams.ts';
import type { ModelSpec, ModelUsage } from '../model.ts';

export interface BeginDreamInput {
  dreamId: string;
  /** Keep the prompt in the dream's conversation (PostgreSQL) and return none (patch `dream-content-by-reference`). */
  byReference?: boolean;
}

export interface BegunDream {
  /** The first user message: the instructions, the store's memories and the sessions' transcripts ('' by reference). */
  prompt: string;
  maxOutputTokens: number;
}

export interface FinishDreamInput {
  dreamId: string;
  writes: DreamWrite[];
  /** Apply the writes staged in the dream's conversation (PostgreSQL) instead of `writes`. */
  staged?: boolean;
}

/** One model step of a dream on the conversation kept in PostgreSQL (activities/model/dream-step.ts). */
export interface DreamStepInput {
  dreamId: string;
  /** 1, 2, …: a retried step answers what it answered before. */
  step: number;
  tenantId: string;
  model: ModelSpec;
  maxOutputTokens: number;
}

/** What a step tells the workflow: no content, only what was staged (paths and hashes) and whether the model is done. */
export interface DreamStepResult {
  usage: ModelUsage;
  /** The model answered without tool calls: the staged writes are final. */
  done: boolean;
  staged: { path: string; contentSha256: string | null }[];
  refused: number;
}

export interface EndDreamInput {
  dreamId: string;
  status: 'failed' | 'canceled';
  error?: { type: string; message: string };
}

export interface DreamUsageInput {
  dreamId: string;
  usage: ModelUsage;
}

/** The dream's status after finishing: `completed`, or what a cancel made it first. */
export type FinishedDream = { status: DreamStatus };
