// The OpenAI Agents SDK's runtime shims (`@openai/agents-core/_shims`), for the workflow sandbox. The SDK picks a shim
// per platform (Node, browser, workerd); none fits a Temporal workflow, which has no EventTarget, no Node built-ins and
// must be deterministic. workers/workflow-bundler.ts aliases the SDK's shim module to this one in the workflow bundle:
// ids come from the workflow's seeded uuid4, events from a plain listener map, timers are refused, and the
// SDK's own MCP transports are refused (MCP tools reach the SDK as the platform's tools, workflows/openai-agents/).
import { uuid4 } from '@temporalio/workflow';

type Listener = (...args: unknown[]) => void;

/** The SDK's event emitter (agent and run hooks): synchronous, in registration order. */
export class RuntimeEventEmitter {
  private readonly listeners = new Map<string, Listener[]>();

  on(type: string, listener: Listener): this {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    return this;
  }

  off(type: string, listener: Listener): this {
    this.listeners.set(
      type,
      (this.listeners.get(type) ?? []).filter((registered) => registered !== listener),
    );
    return this;
  }

  emit(type: string, ...args: unknown[]): boolean {
    const listeners = this.listeners.get(type) ?? [];
    for (const listener of listeners) listener(...args);
    return listeners.length > 0;
  }

  once(type: string, listener: Listener): this {
    const wrapper: Listener = (...args) => {
      this.off(type, wrapper);
      listener(...args);
    };
    return this.on(type, wrapper);
  }
}

export const randomUUID = (): string => uuid4();

export const loadEnv = (): Record<string, string | undefined> => ({});
export const isBrowserEnvironment = (): boolean => false;
export const isTracingLoopRunningByDefault = (): boolean => false;
export const supportsProcessLifecycleEvents = (): boolean => false;

/** Streams are not used by a non-streamed run; the names must exist for the SDK's modules to load. */
export class Readable {}
export const ReadableStream = undefined;
export const ReadableStreamController = undefined;
export const TransformStream = undefined;

/** One workflow runs one async context at a time per run() call; a stack is enough (as the SDK's browser shim). */
export class AsyncLocalStorage<T> {
  private stack: T[] = [];

  run<R>(context: T, fn: () => R): R {
    this.stack.push(context);
    const restore = () => {
      const index = this.stack.lastIndexOf(context);
      if (index !== -1) this.stack.splice(index, 1);
    };
    try {
      const result = fn();
      if (result instanceof Promise) return result.finally(restore) as R;
      restore();
      return result;
    } catch (error) {
      restore();
      throw error;
    }
  }

  getStore(): T | undefined {
    return this.stack.at(-1);
  }

  enterWith(context: T): void {
    this.stack.push(context);
  }
}

class RefusedMcpServer {
  constructor() {
    throw new Error('MCP servers of the OpenAI Agents SDK are not available in a workflow: use the agent mcp_servers.');
  }
}
export { RefusedMcpServer as MCPServerStdio, RefusedMcpServer as MCPServerStreamableHttp };
export { RefusedMcpServer as MCPServerSSE };

/** Only the SDK's trace exporter uses timers, and tracing is off in the harness: a use is a bug, not a wait. */
export const timer = {
  setTimeout: (): never => {
    throw new Error('the OpenAI Agents SDK asked for a timer in a workflow (its tracing must stay disabled)');
  },
  clearTimeout: (): void => undefined,
};

/**
 * structuredClone for the SDK's run state (the workflow sandbox has none): the state is JSON-like data; this keeps
 * `undefined` fields, dates, maps and sets as structuredClone would.
 */
export function structuredClone<T>(value: T): T {
  return cloneValue(value) as T;
}

function cloneValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneValue);
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Map) return new Map([...value].map(([key, item]) => [cloneValue(key), cloneValue(item)]));
  if (value instanceof Set) return new Set([...value].map(cloneValue));
  if (value instanceof Uint8Array) return value.slice();
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = cloneValue(item);
  return copy;
}
