// The dream activities' contract (activities/dreams/activities.ts implements it; workflows/dream-workflow.ts calls it).
import type { DreamStatus, DreamWrite } from '../dreams.ts';
import type { ModelUsage } from '../model.ts';

export interface BegunDream {
  /** The first user message: the instructions, the store's memories and the sessions' transcripts. */
  prompt: string;
  maxOutputTokens: number;
}

export interface FinishDreamInput {
  dreamId: string;
  writes: DreamWrite[];
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
