// AbortController and AbortSignal for the OpenAI Agents SDK inside the workflow sandbox, which has neither: the SDK
// makes one signal per run of function tools so that a failing tool cancels its siblings. Provided to the bundle's
// modules by workers/workflow-bundler.ts (never a global). Listeners run synchronously, in registration order.

type AbortListener = (event: { type: 'abort'; target: AbortSignal }) => void;

export class AbortSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: AbortListener | null = null;
  private listeners: Array<{ listener: AbortListener; once: boolean }> = [];

  addEventListener(type: string, listener: AbortListener, options?: { once?: boolean }): void {
    if (type === 'abort') this.listeners.push({ listener, once: options?.once ?? false });
  }

  removeEventListener(type: string, listener: AbortListener): void {
    if (type === 'abort') this.listeners = this.listeners.filter((entry) => entry.listener !== listener);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Called by the controller only. */
  settle(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const event = { type: 'abort' as const, target: this };
    const listeners = this.listeners;
    this.listeners = listeners.filter((entry) => !entry.once);
    this.onabort?.(event);
    for (const { listener } of listeners) listener(event);
  }

  static abort(reason?: unknown): AbortSignal {
    const controller = new AbortController();
    controller.abort(reason);
    return controller.signal;
  }

  /** A signal that aborts when any of `signals` does. */
  static any(signals: AbortSignal[]): AbortSignal {
    const controller = new AbortController();
    for (const signal of signals) {
      if (signal.aborted) {
        controller.abort(signal.reason);
        break;
      }
      signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    }
    return controller.signal;
  }
}

export class AbortController {
  readonly signal = new AbortSignal();

  abort(reason?: unknown): void {
    this.signal.settle(reason ?? abortError());
  }
}

function abortError(): Error {
  const error = new Error('This operation was aborted');
  error.name = 'AbortError';
  return error;
}
