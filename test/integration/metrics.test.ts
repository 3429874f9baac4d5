// Prometheus endpoints: the API's GET /metrics (request counts and latency by route and status, sessions by status,
// model tokens) and a worker process's Temporal runtime metrics on AGENTS_METRICS_PORT — the series the README
// documents, in a well-formed text exposition.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiMetricNames } from '../../api/metrics.ts';
import { freePort, type ManagedProcess } from '../../scripts/services/process.ts';
import { workerMetricNames } from '../../workers/metrics.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { post, waitForIdle } from '../fixtures/trace/scenario.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';

let harness: ApiHarness;
let modelWorker: ManagedProcess | undefined;
let workerMetricsPort = 0;
beforeAll(async () => {
  // The model worker runs as its own process, with its metrics endpoint on a port of this test's own.
  harness = await startApiHarness('metrics', { workers: ['session', 'backend'] });
  workerMetricsPort = await freePort();
  modelWorker = await startWorkerProcess('model', {
    prefix: harness.platform.prefix,
    fakeModelUrl: harness.platform.fakeModel.url,
    extraEnv: { AGENTS_METRICS_PORT: String(workerMetricsPort) },
  });
});
afterAll(async () => {
  await modelWorker?.stop('SIGKILL');
  await harness?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?\d+)?$/;

/** Parses the text exposition strictly: every line is a comment, blank, or a sample with well-formed labels. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = sampleLine.exec(line);
    expect(match, `malformed exposition line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match![3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name!] = value!;
    }
    samples.push({ name: match![1]!, labels, value: Number(match![4]) });
  }
  return { samples, types };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );

it('serves the API metrics without a key: requests by route and status, sessions, tokens', async () => {
  const model = `${harness.platform.prefix}-metrics`;
  harness.platform.fakeModel.setScript(model, [{ text: 'Hello.', usage: { inputTokens: 11, outputTokens: 7 } }]);
  const agent = await post(harness, '/v1/agents', { name: 'metrics agent', model, tools: [] });
  const environment = await post(harness, '/v1/environments', { name: `env-${harness.platform.prefix}` });
  const session = await post(harness, '/v1/sessions', { agent: agent.id, environment_id: environment.id });
  await post(harness, `/v1/sessions/${session.id}/events`, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Hi' }] }],
  });
  await waitForIdle(harness, session.id, 'end_turn');
  expect((await harness.request('/v1/sessions/sesn_missing')).status).toBe(404);

  const response = await harness.request('/metrics', { apiKey: null });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const { samples, types } = parseExposition(await response.text());

  expect(types.get(apiMetricNames.requests)).toBe('counter');
  expect(types.get(apiMetricNames.requestDuration)).toBe('histogram');
  const created = find(samples, apiMetricNames.requests, { method: 'POST', route: '/v1/sessions', status: '200' });
  expect(created[0]?.value).toBeGreaterThanOrEqual(1);
  // Paths with ids are counted under their route template, never the raw URL.
  expect(find(samples, apiMetricNames.requests, { route: '/v1/sessions/:session_id', status: '404' })).toHaveLength(1);
  expect(samples.some((sample) => sample.labels.route?.includes('sesn_'))).toBe(false);
  const buckets = find(samples, `${apiMetricNames.requestDuration}_bucket`, { route: '/v1/sessions', method: 'POST' });
  expect(buckets.at(-1)?.labels.le).toBe('+Inf');
  expect(buckets.at(-1)?.value).toBe(created[0]?.value);
  expect(
    find(samples, `${apiMetricNames.requestDuration}_count`, { route: '/v1/sessions', method: 'POST' })[0]?.value,
  ).toBe(created[0]?.value);

  expect(find(samples, apiMetricNames.sessions, { status: 'idle' })[0]?.value).toBeGreaterThanOrEqual(1);
  expect(find(samples, apiMetricNames.sessions, { status: 'running' })).toHaveLength(1);
  expect(find(samples, apiMetricNames.modelTokens, { type: 'input' })[0]?.value).toBeGreaterThanOrEqual(11);
  expect(find(samples, apiMetricNames.modelTokens, { type: 'output' })[0]?.value).toBeGreaterThanOrEqual(7);
  expect(find(samples, apiMetricNames.modelRequests)[0]?.value).toBeGreaterThanOrEqual(1);
  expect(find(samples, apiMetricNames.openStreams)).toHaveLength(1);
  expect(find(samples, apiMetricNames.sandboxSnapshots)).toHaveLength(1);
});

it("serves a worker process's Temporal runtime metrics on AGENTS_METRICS_PORT", async () => {
  // The first test ran a model call on this worker, so activity series exist.
  const text = await eventually(
    async () => {
      const response = await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`).catch(() => undefined);
      const body = response?.ok ? await response.text() : '';
      return body.includes(workerMetricNames.activityExecutionLatency) ? body : undefined;
    },
    30_000,
    'worker metrics',
  );
  const { samples } = parseExposition(text);
  for (const name of [workerMetricNames.slotsAvailable, workerMetricNames.requests]) {
    expect(
      samples.some((sample) => sample.name === name || sample.name.startsWith(`${name}_`)),
      name,
    ).toBe(true);
  }
  const latency = samples.filter((sample) => sample.name.startsWith(workerMetricNames.activityExecutionLatency));
  expect(latency.length).toBeGreaterThan(0);
  expect(latency.every((sample) => sample.labels.agents_worker === 'model-worker')).toBe(true);
});
