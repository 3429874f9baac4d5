// Task-queue names: one family per kind of work, so each scales and fails on its own.
export const taskQueues = {
  /** Session workflows (the agent loop) and their local activities (the event journal). */
  session: 'agents-session',
  /** Model calls. */
  model: 'agents-model',
  /** Sandbox creation: any sandbox worker may take it; later operations go to that worker's host queue. */
  sandbox: 'agents-sandbox',
  /** Deployment runs (fired by schedules) and webhook deliveries: the platform's automation, apart from sessions. */
  automation: 'agents-automation',
  /** MCP tool listing and calls (workers/mcp-worker.ts): outbound calls with the session's vault credentials. */
  mcp: 'agents-mcp',
} as const;

/** The per-host queue of the sandbox worker that holds a container. */
export const sandboxHostQueue = (hostId: string): string => `agents-sandbox-host-${hostId}`;

/** Task queues can carry a prefix so several test runs (or deployments) share one namespace without crossing. */
export const withPrefix = (prefix: string, queue: string): string => (prefix ? `${prefix}-${queue}` : queue);

/** A region's own queue of a family (`agents-session-eu`); without a region, the family's shared queue. */
export const regionQueue = (queue: string, region: string | undefined): string =>
  region ? `${queue}-${region}` : queue;

/** The queue a session's work of one family goes to: its prefix, and its region when it is placed in one. */
export const placedQueue = (placement: { taskQueuePrefix: string; region?: string }, queue: string): string =>
  withPrefix(placement.taskQueuePrefix, regionQueue(queue, placement.region));
