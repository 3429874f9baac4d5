// Randomized model-fault plans for test/faults/model-random.test.ts: a seeded generator of sessions whose model calls
// are preceded by runs of injected faults, the fake model's script that plays a plan, and the exact event sequence the
// documented retry behaviour must journal for each turn (README "Retries of model calls belong to the loop").
import type { ModelProvider } from '../../domain/model.ts';
import type { FakeFault, FakeTurn } from '../fake-model/script.ts';

/** A small, fast, seedable PRNG (mulberry32): the same seed yields the same plan. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const faultKinds = [
  'http_429',
  'http_529',
  'http_500',
  'reset_before_response',
  'reset_mid_stream',
  'malformed_chunk',
  'stream_error',
  'end_mid_stream',
  'http_400',
] as const;
export type FaultKind = (typeof faultKinds)[number];
const retryableKinds = faultKinds.filter((kind) => kind !== 'http_400');

export interface PlannedFault {
  kind: FaultKind;
  fault: FakeFault;
  /** The `session.error` type the loop must journal for it. */
  errorType: string;
  retryable: boolean;
  /** The wait the provider asked for (429 with retry-after); else the loop's backoff applies. */
  retryAfterMs?: number;
}

export interface PlannedToolCall {
  name: 'lookup_order';
  input: { order_id: string };
}

export interface PlannedStep {
  text: string;
  toolCalls: PlannedToolCall[];
  /** Faults served, one request each, before this step's real answer. */
  faults: PlannedFault[];
}

export interface PlannedTurn {
  message: string;
  /** The last step may end the turn early: its faults exhaust the retries or one is not retryable. */
  steps: PlannedStep[];
}

export interface PlannedSession {
  index: number;
  protocol: ModelProvider;
  maxAttempts: number;
  turns: PlannedTurn[];
}

export type TurnEnding = 'end_turn' | 'retries_exhausted' | 'rejected';

const protocols: ModelProvider[] = ['anthropic', 'openai-chat', 'openai-responses'];
const orderIds = ['A-1001', 'A-1002', 'Z-404'];
const words = ['amber', 'basalt', 'cedar', 'delta', 'ember', 'fjord', 'garnet', 'harbor', 'indigo', 'juniper'];

export class FaultPlanner {
  private readonly random: () => number;
  /** Each fault kind and an exhaustion, each placed at least once so even a short run covers them all. */
  private readonly mustInclude: Array<FaultKind | 'exhaustion'>;

  constructor(seed: number) {
    this.random = seededRandom(seed);
    this.mustInclude = this.shuffle([...faultKinds, 'exhaustion']);
  }

  /** Sessions (protocols in rotation, each at least once) until the plan holds `targetRequests` model requests. */
  plan(targetRequests: number): PlannedSession[] {
    const sessions: PlannedSession[] = [];
    let requests = 0;
    while (requests < targetRequests || this.mustInclude.length > 0 || sessions.length < protocols.length) {
      const session = this.session(sessions.length);
      sessions.push(session);
      requests += session.turns.reduce((sum, turn) => sum + turnRequests(turn, session.maxAttempts), 0);
    }
    return sessions;
  }

  private session(index: number): PlannedSession {
    // 5 is the default retry limit (defaultSessionSettings); 3 reaches exhaustion with fewer requests.
    const maxAttempts = this.pick([3, 5]);
    const turns: PlannedTurn[] = [];
    const turnCount = 2 + Math.floor(this.random() * 2);
    for (let turn = 0; turn < turnCount; turn++) turns.push(this.turn(index, turn, maxAttempts));
    // Whatever ended the last turn, the next user message must work normally: end every session on a clean turn.
    if (turnEnding(turns.at(-1)!, maxAttempts) !== 'end_turn') turns.push(this.turn(index, turns.length, 0));
    return { index, protocol: protocols[index % protocols.length]!, maxAttempts, turns };
  }

  /** `maxAttempts` 0 plans a turn without faults. */
  private turn(session: number, turn: number, maxAttempts: number): PlannedTurn {
    const stepCount = 1 + Math.floor(this.random() * 3);
    const steps: PlannedStep[] = [];
    for (let step = 0; step < stepCount; step++) {
      const last = step === stepCount - 1;
      const label = `s${session} t${turn} step ${step}: ${this.pick(words)} ${this.pick(words)}`;
      const toolCalls: PlannedToolCall[] = last
        ? []
        : Array.from({ length: 1 + Math.floor(this.random() * 2) }, () => ({
            name: 'lookup_order' as const,
            input: { order_id: this.pick(orderIds) },
          }));
      const faults = maxAttempts === 0 ? [] : this.faultRun(maxAttempts);
      steps.push({ text: last ? `${label}. Done.` : `${label}, looking up.`, toolCalls, faults });
      if (stepEnding(faults, maxAttempts) !== 'end_turn') break;
    }
    return { message: `session ${session} turn ${turn}`, steps };
  }

  /** Faults before one model answer: none, one, a run, a run the retry limit cannot absorb, or a rejection. */
  private faultRun(maxAttempts: number): PlannedFault[] {
    const retryable = (count: number) => Array.from({ length: count }, () => this.fault(this.pick(retryableKinds)));
    if (this.mustInclude.length > 0 && this.random() < 0.7) {
      const wanted = this.mustInclude.shift()!;
      if (wanted === 'exhaustion') return retryable(maxAttempts);
      if (wanted === 'http_400') return [...retryable(Math.floor(this.random() * 2)), this.fault('http_400')];
      return [this.fault(wanted)];
    }
    const roll = this.random();
    if (roll < 0.45) return [];
    if (roll < 0.75) return retryable(1);
    if (roll < 0.87) return retryable(2 + Math.floor(this.random() * (maxAttempts - 2)));
    if (roll < 0.94) {
      this.covered('exhaustion');
      return retryable(maxAttempts);
    }
    return [...retryable(Math.floor(this.random() * Math.min(3, maxAttempts))), this.fault('http_400')];
  }

  private fault(kind: FaultKind): PlannedFault {
    this.covered(kind);
    switch (kind) {
      case 'http_429': {
        // Mostly a short retry-after-ms; now and then the plain header in whole seconds.
        const seconds = this.random() < 0.1;
        const retryAfterMs = seconds ? 1_000 : 50 + Math.floor(this.random() * 250);
        const fault: FakeFault = seconds
          ? { type: 'http', status: 429, retryAfterSeconds: 1 }
          : { type: 'http', status: 429, retryAfterMs };
        return { kind, fault, errorType: 'model_rate_limited_error', retryable: true, retryAfterMs };
      }
      case 'http_529':
      case 'http_500': {
        const status = kind === 'http_529' ? 529 : 500;
        return { kind, fault: { type: 'http', status }, errorType: 'model_overloaded_error', retryable: true };
      }
      case 'stream_error': {
        const status = this.pick([429, 500, 529]);
        const errorType = status === 429 ? 'model_rate_limited_error' : 'model_overloaded_error';
        return { kind, fault: { type: 'stream_error', status }, errorType, retryable: true };
      }
      case 'http_400':
        return {
          kind,
          fault: { type: 'http', status: 400, message: 'fake model: this request is rejected for good' },
          errorType: 'model_request_failed_error',
          retryable: false,
        };
      default:
        return { kind, fault: { type: kind }, errorType: 'model_request_failed_error', retryable: true };
    }
  }

  private covered(item: FaultKind | 'exhaustion'): void {
    const at = this.mustInclude.indexOf(item);
    if (at >= 0) this.mustInclude.splice(at, 1);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private shuffle<T>(items: T[]): T[] {
    for (let index = items.length - 1; index > 0; index--) {
      const other = Math.floor(this.random() * (index + 1));
      [items[index], items[other]] = [items[other]!, items[index]!];
    }
    return items;
  }
}

/** How a step's faults end: absorbed by retries, past the retry limit, or rejected. */
export function stepEnding(faults: PlannedFault[], maxAttempts: number): TurnEnding {
  if (faults.some((fault) => !fault.retryable)) return 'rejected';
  return faults.length >= maxAttempts && faults.length > 0 ? 'retries_exhausted' : 'end_turn';
}

export const turnEnding = (turn: PlannedTurn, maxAttempts: number): TurnEnding =>
  stepEnding(turn.steps.at(-1)!.faults, maxAttempts);

export function turnRequests(turn: PlannedTurn, maxAttempts: number): number {
  const answered = turnEnding(turn, maxAttempts) === 'end_turn' ? turn.steps.length : turn.steps.length - 1;
  return answered + turn.steps.reduce((sum, step) => sum + step.faults.length, 0);
}

/** The fake model's script: each fault replays the step's own answer and breaks it, then the real answer follows. */
export function scriptFor(session: PlannedSession): FakeTurn[] {
  return session.turns.flatMap((turn) =>
    turn.steps.flatMap((step, index) => {
      const answer: FakeTurn = { text: step.text, toolCalls: step.toolCalls.map((call) => ({ ...call })) };
      const faulted = step.faults.map((fault) => ({ ...answer, fault: fault.fault }));
      const answered = index < turn.steps.length - 1 || turnEnding(turn, session.maxAttempts) === 'end_turn';
      return answered ? [...faulted, answer] : faulted;
    }),
  );
}

/** Backoff of the loop (workflows/model-call.ts) before attempt `attempt + 1`. */
export const backoffMs = (attempt: number, initialMs: number, maxMs: number): number =>
  Math.min(maxMs, initialMs * 2 ** (attempt - 1));

/** The exact journal of one turn, summarised (see `summarise`), and the retry waits it must schedule. */
export function expectedTurn(
  turn: PlannedTurn,
  maxAttempts: number,
  retry: { initialMs: number; maxMs: number },
): { events: string[]; retryWaitsMs: number[] } {
  const events = ['user.message', 'session.status_running'];
  const retryWaitsMs: number[] = [];
  for (const step of turn.steps) {
    for (const [index, fault] of step.faults.entries()) {
      events.push('span.model_request_start', 'span.model_request_end error');
      if (!fault.retryable) {
        events.push(`session.error ${fault.errorType} exhausted`, 'session.status_idle end_turn');
        return { events, retryWaitsMs };
      }
      if (index + 1 >= maxAttempts) {
        events.push(`session.error ${fault.errorType} exhausted`, 'session.status_idle retries_exhausted');
        return { events, retryWaitsMs };
      }
      events.push(`session.error ${fault.errorType} retrying`, 'session.status_rescheduled', 'session.status_running');
      retryWaitsMs.push(fault.retryAfterMs ?? backoffMs(index + 1, retry.initialMs, retry.maxMs));
    }
    events.push('span.model_request_start', 'span.model_request_end ok', `agent.message ${step.text}`);
    for (const call of step.toolCalls) events.push(`agent.tool_use ${call.name} ${call.input.order_id}`);
    // Tools of one step run concurrently: their results are compared as a sorted block (see `summarise`).
    events.push(...step.toolCalls.map((call) => `agent.tool_result ${call.input.order_id}`).sort());
  }
  events.push('session.status_idle end_turn');
  return { events, retryWaitsMs };
}
