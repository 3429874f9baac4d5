// Per-provider limits inside one model worker: at most `maxConcurrent` calls in flight and at most `maxPerSecond`
// started per second, for each provider separately (Anthropic's limits are not OpenAI's). Calls over a limit wait in
// arrival order; Temporal's own per-queue limits (maxTaskQueueActivitiesPerSecond) cap the whole fleet.
import type { ModelProvider } from '../../domain/model.ts';

export interface ProviderLimit {
  maxConcurrent: number;
  maxPerSecond: number;
}

class ProviderGate {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly starts: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly limit: ProviderLimit;

  constructor(limit: ProviderLimit) {
    this.limit = limit;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.inFlight++;
        this.starts.push(Date.now());
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.inFlight--;
          this.pump();
        });
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a model slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
      this.pump();
    });
  }

  private pump(): void {
    const now = Date.now();
    while (this.starts.length > 0 && now - this.starts[0]! >= 1_000) this.starts.shift();
    while (this.waiting.length > 0 && this.inFlight < this.limit.maxConcurrent) {
      if (this.starts.length >= this.limit.maxPerSecond) {
        // Wake when the oldest start in the window leaves it.
        this.timer ??= setTimeout(
          () => {
            this.timer = undefined;
            this.pump();
          },
          1_000 - (now - this.starts[0]!),
        );
        return;
      }
      this.waiting.shift()!(); // grant() counts the call in flight and records its start
    }
  }
}

export class ProviderLimiter {
  private readonly gates = new Map<string, ProviderGate>();
  private readonly limits: Partial<Record<ModelProvider | 'openai', ProviderLimit>>;
  private readonly fallback: ProviderLimit;

  constructor(fallback: ProviderLimit, limits: Partial<Record<ModelProvider | 'openai', ProviderLimit>> = {}) {
    this.fallback = fallback;
    this.limits = limits;
  }

  /** Waits for a slot for this provider; call the returned function when the call ends. */
  acquire(provider: ModelProvider, signal?: AbortSignal): Promise<() => void> {
    // Both OpenAI protocols share one account's limits.
    const key = provider === 'anthropic' ? 'anthropic' : 'openai';
    let gate = this.gates.get(key);
    if (!gate) {
      gate = new ProviderGate(this.limits[key] ?? this.fallback);
      this.gates.set(key, gate);
    }
    return gate.acquire(signal);
  }
}
