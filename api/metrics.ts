// GET /metrics (no API key; loopback or AGENTS_METRICS_TOKEN): the API's Prometheus metrics in the text exposition format (0.0.4). Request
// counts and latency by route and status are counted in-process; sessions by status, model tokens and sandbox
// snapshots are read from PostgreSQL at scrape time, so every API replica reports the same platform-wide values (sum
// the request metrics across replicas, not these). A tiny registry: prom-client is not a dependency.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { journalStatusSql, modelUsageTotals } from '../db/repositories/session-events.ts';
import type { ApiContext } from './context.ts';
import { ApiError, sendError } from './errors.ts';
import { operatorAuthorizer } from './operator-auth.ts';

type Labels = Record<string, string>;

const escapeLabel = (value: string): string =>
  value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
const escapeHelp = (value: string): string => value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
const formatValue = (value: number): string =>
  Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value);

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`;
}

const keyOf = (labels: Labels): string => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

abstract class Metric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
  }

  abstract samples(): string;
}

/** A counter or gauge: one value per label set. */
export class ValueMetric extends Metric {
  readonly type: 'counter' | 'gauge';
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(type: 'counter' | 'gauge', name: string, help: string) {
    super(name, help);
    this.type = type;
  }

  inc(labels: Labels = {}, by = 1): void {
    const entry = this.values.get(keyOf(labels)) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(keyOf(labels), entry);
  }

  set(labels: Labels, value: number): void {
    this.values.set(keyOf(labels), { labels, value });
  }

  reset(): void {
    this.values.clear();
  }

  samples(): string {
    return [...this.values.values()]
      .map(({ labels, value }) => `${this.name}${labelText(labels)} ${formatValue(value)}\n`)
      .join('');
  }
}

export class HistogramMetric extends Metric {
  readonly type = 'histogram';
  private readonly buckets: number[];
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, buckets: number[]) {
    super(name, help);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels, value: number): void {
    const key = keyOf(labels);
    const entry = this.series.get(key) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((bound, index) => {
      if (value <= bound) entry.counts[index] = (entry.counts[index] ?? 0) + 1;
    });
    entry.sum += value;
    entry.count++;
    this.series.set(key, entry);
  }

  samples(): string {
    let text = '';
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((bound, index) => {
        text += `${this.name}_bucket${labelText({ ...labels, le: formatValue(bound) })} ${counts[index] ?? 0}\n`;
      });
      text += `${this.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${count}\n`;
      text += `${this.name}_sum${labelText(labels)} ${formatValue(sum)}\n`;
      text += `${this.name}_count${labelText(labels)} ${count}\n`;
    }
    return text;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: (() => Promise<void>)[] = [];

  counter(name: string, help: string): ValueMetric {
    return this.add(new ValueMetric('counter', name, help));
  }

  gauge(name: string, help: string): ValueMetric {
    return this.add(new ValueMetric('gauge', name, help));
  }

  histogram(name: string, help: string, buckets: number[]): HistogramMetric {
    return this.add(new HistogramMetric(name, help, buckets));
  }

  /** Runs before every scrape: metrics read from elsewhere are refreshed here. */
  onCollect(collector: () => Promise<void>): void {
    this.collectors.push(collector);
  }

  async render(): Promise<string> {
    await Promise.all(this.collectors.map((collect) => collect()));
    return this.metrics.map((metric) => metric.header() + metric.samples()).join('');
  }

  private add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
}

export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The series the API exports, by name (README "Metrics"). */
export const apiMetricNames = {
  requests: 'agents_api_requests_total',
  requestDuration: 'agents_api_request_duration_seconds',
  openStreams: 'agents_api_open_event_streams',
  eventListeners: 'agents_api_event_listeners',
  sessions: 'agents_sessions',
  modelTokens: 'agents_model_tokens_total',
  modelRequests: 'agents_model_requests_total',
  sandboxSnapshots: 'agents_sandbox_snapshots',
  sandboxSnapshotBytes: 'agents_sandbox_snapshot_bytes',
} as const;

async function collectFromDatabase(
  pool: pg.Pool,
  gauges: {
    sessions: ValueMetric;
    modelTokens: ValueMetric;
    modelRequests: ValueMetric;
    snapshots: ValueMetric;
    snapshotBytes: ValueMetric;
  },
): Promise<void> {
  const [statuses, tokens, snapshots] = await Promise.all([
    pool.query<{ status: string; n: string }>(
      `select case when archived_at is not null then 'terminated' else ${journalStatusSql('s.id')} end as status,
         count(*) as n
       from sessions s group by 1`,
    ),
    modelUsageTotals(pool),
    pool.query<{ n: string; bytes: string | null }>(
      'select count(*) as n, sum(size_bytes) as bytes from sandbox_snapshots',
    ),
  ]);
  gauges.sessions.reset();
  for (const status of ['idle', 'running', 'rescheduling', 'terminated']) gauges.sessions.set({ status }, 0);
  for (const row of statuses.rows) gauges.sessions.set({ status: row.status }, Number(row.n));
  gauges.modelTokens.set({ type: 'input' }, tokens.input_tokens);
  gauges.modelTokens.set({ type: 'output' }, tokens.output_tokens);
  gauges.modelTokens.set({ type: 'cache_read' }, tokens.cache_read_input_tokens);
  gauges.modelTokens.set({ type: 'cache_creation' }, tokens.cache_creation_input_tokens);
  gauges.modelRequests.set({}, tokens.model_requests);
  gauges.snapshots.set({}, Number(snapshots.rows[0]?.n ?? 0));
  gauges.snapshotBytes.set({}, Number(snapshots.rows[0]?.bytes ?? 0));
}

/** Counts every request by route template and status, and serves GET /metrics. */
export function registerApiMetrics(
  app: FastifyInstance,
  { pool, openStreams, notifier, config }: ApiContext,
): MetricsRegistry {
  const registry = new MetricsRegistry();
  const requests = registry.counter(apiMetricNames.requests, 'HTTP requests answered, by method, route and status');
  const duration = registry.histogram(
    apiMetricNames.requestDuration,
    'HTTP request latency in seconds, by method, route and status (SSE streams count until they close)',
    latencyBuckets,
  );
  const streams = registry.gauge(apiMetricNames.openStreams, 'Open SSE event streams in this API process');
  const listeners = registry.gauge(
    apiMetricNames.eventListeners,
    "Stream listeners on this process's shared PostgreSQL LISTEN connection",
  );
  const sessions = registry.gauge(apiMetricNames.sessions, 'Sessions by status (archived count as terminated)');
  const modelTokens = registry.counter(
    apiMetricNames.modelTokens,
    'Model tokens recorded in the event log of existing sessions, by type (drops when sessions are deleted)',
  );
  const modelRequests = registry.counter(apiMetricNames.modelRequests, 'Model requests recorded in the event log');
  const snapshots = registry.gauge(apiMetricNames.sandboxSnapshots, 'Sandbox workspace snapshots stored');
  const snapshotBytes = registry.gauge(apiMetricNames.sandboxSnapshotBytes, 'Bytes of sandbox snapshots stored');

  registry.onCollect(async () => streams.set({}, openStreams.size));
  registry.onCollect(async () => listeners.set({}, notifier.listenerCount));
  registry.onCollect(() =>
    collectFromDatabase(pool, { sessions, modelTokens, modelRequests, snapshots, snapshotBytes }),
  );

  app.addHook('onResponse', async (request, reply) => {
    // Route templates, never raw URLs: ids in paths would make one series per session.
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  // Outside loopback only with AGENTS_METRICS_TOKEN (api/operator-auth.ts): the figures are platform-wide.
  const authorized = operatorAuthorizer(config.AGENTS_METRICS_TOKEN);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!authorized(request.raw)) {
      return sendError(
        request,
        reply,
        new ApiError(401, 'authentication_error', '/metrics needs the metrics token (Authorization: Bearer)'),
      );
    }
    const text = await registry.render();
    return reply.type(prometheusContentType).send(text);
  });
  return registry;
}
