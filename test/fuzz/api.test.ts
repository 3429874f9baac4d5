// OpenAPI-driven fuzzing: schemathesis (scripts/setup/python-tools.sh) generates valid and invalid requests for every
// operation in /openapi.json and sends them with a tenant's key to the API running in-process. Whatever it sends, the
// answer is never a 5xx. The API's own request log counts the statuses independently of schemathesis's verdict.
// The run is bounded by time, not by the number of operations: schemathesis's --max-time (FUZZ_MAX_TIME_S, default
// 150 s) shares the budget between its phases and ends the run cleanly when it is spent, so a growing API (78
// operations now, ~6,500 coverage cases on their own) on a 2-core CI machine gets a shorter pass per operation
// instead of a killed run. FUZZ_MAX_EXAMPLES (default 25 per operation) and FUZZ_MAX_TIME_S widen it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/services/tools-env.ts';
import { startApiHarness, type ApiHarness } from '../support/api-harness.ts';

// A knob for a longer run; the test itself stays bounded by default.
const maxExamples = Number(process.env.FUZZ_MAX_EXAMPLES ?? '25');
const maxTimeSeconds = Number(process.env.FUZZ_MAX_TIME_S ?? '150');
// The backstop kill and the test's own timeout, past schemathesis's budget (it finishes its current case and reports).
const killAfterMs = (maxTimeSeconds + 60) * 1000;
const schemathesisBin = join(projectRoot, '.tools', 'bin', 'schemathesis');
const lastRunLog = join(tmpdir(), 'agents-fuzz-api-last-run.log');

let harness: ApiHarness;
let reportDir: string;
beforeAll(async () => {
  harness = await startApiHarness('fuzz-api', { heartbeatMs: 1_000 });
  reportDir = mkdtempSync(join(tmpdir(), 'agents-fuzz-'));
});
afterAll(async () => {
  await harness?.stop();
  if (reportDir) rmSync(reportDir, { recursive: true, force: true });
});

interface RunOutcome {
  exitCode: number | null;
  output: string;
}

function runSchemathesis(args: string[], timeoutMs: number): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const child = spawn(schemathesisBin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output });
    });
  });
}

interface ServerError {
  status: number;
  url: string;
  reqId: string;
}

/** Status codes of every request the API completed, from Fastify's "request completed" log lines. */
function loggedStatuses(lines: string[]): { total: number; serverErrors: ServerError[] } {
  let total = 0;
  const serverErrors: ServerError[] = [];
  const urls = new Map<string, string>();
  for (const line of lines) {
    let entry: { reqId?: string; msg?: string; req?: { url?: string; method?: string }; res?: { statusCode?: number } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.req?.url && entry.reqId) urls.set(entry.reqId, `${entry.req.method} ${entry.req.url}`);
    if (entry.msg !== 'request completed' || entry.res?.statusCode === undefined) continue;
    total++;
    if (entry.res.statusCode >= 500) {
      serverErrors.push({
        status: entry.res.statusCode,
        url: urls.get(entry.reqId ?? '') ?? '?',
        reqId: entry.reqId ?? '',
      });
    }
  }
  return { total, serverErrors };
}

it('answers every generated request without a 5xx', { timeout: killAfterMs + 30_000 }, async () => {
  expect(existsSync(schemathesisBin), `${schemathesisBin} missing: run bash scripts/setup/python-tools.sh`).toBe(true);
  const junit = join(reportDir, 'junit.xml');
  const { exitCode, output } = await runSchemathesis(
    [
      'run',
      `${harness.baseURL}/openapi.json`,
      '--header',
      `x-api-key:${harness.tenant.apiKey}`,
      '--checks',
      'not_a_server_error',
      '--max-examples',
      String(maxExamples),
      '--max-time',
      String(maxTimeSeconds),
      '--phases',
      'examples,coverage,fuzzing,stateful',
      // The SSE stream never ends by itself: a short request timeout cuts it (a timeout is not a server error).
      '--request-timeout',
      '5',
      // One worker: hypothesis's lambda-description cache is not thread-safe (a runtime error with 2).
      '--workers',
      '1',
      '--seed',
      '20261121',
      '--generation-database',
      'none',
      '--no-color',
      '--report',
      'junit',
      '--report-junit-path',
      junit,
      '--exclude-path-regex',
      '/stream$',
    ],
    killAfterMs,
  );
  const logged = loggedStatuses(harness.logLines);
  // Kept after the run: the whole report, with a curl reproduction per failing case, and the API's error lines.
  const failedIds = new Set(logged.serverErrors.map((failure) => failure.reqId));
  const errorLines = harness.logLines.filter((line) => [...failedIds].some((id) => line.includes(id)));
  writeFileSync(
    lastRunLog,
    `${output}\n\n${logged.total} requests answered\n\n\n--- API error log lines ---\n${errorLines.join('\n')}\n`,
  );
  // Shown on failure: schemathesis prints a curl reproduction for each failing case.
  const context = `full report: ${lastRunLog}\n${output.slice(-6_000)}\n5xx in the API log: ${JSON.stringify(logged.serverErrors.slice(0, 20))}`;
  expect(logged.total, context).toBeGreaterThan(500);
  expect(logged.serverErrors, context).toEqual([]);
  expect(exitCode, context).toBe(0);
});

// What fuzzing found, pinned as plain requests so a fix is checked without the fuzzer (seed 20261121 finds them all).
describe('requests the fuzzer found answered with a 500', () => {
  const createAgent = async (extra: Record<string, unknown> = {}) => {
    const response = await harness.request('/v1/agents', {
      method: 'POST',
      body: JSON.stringify({ name: 'fuzz finding', model: 'claude-sonnet-5-5', ...extra }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: string }).id;
  };

  it('an agent version beyond a 32-bit integer is a 4xx', async () => {
    const agentId = await createAgent();
    const environment = await harness.request('/v1/environments', {
      method: 'POST',
      body: JSON.stringify({ name: `fuzz finding ${agentId}` }),
    });
    const environmentId = ((await environment.json()) as { id: string }).id;
    const statuses = [
      (await harness.request(`/v1/agents/${agentId}?version=9007199254740990`)).status,
      (
        await harness.request('/v1/sessions', {
          method: 'POST',
          body: JSON.stringify({
            agent: { type: 'agent', id: '0', version: 9007199254740990 },
            environment_id: environmentId,
          }),
        })
      ).status,
      (
        await harness.request('/v1/agents', {
          method: 'POST',
          body: JSON.stringify({
            name: 'fuzz finding',
            model: 'claude-sonnet-5-5',
            tools: [
              {
                type: 'sub_agent',
                name: 'helper',
                description: 'd',
                agent: { type: 'agent', id: agentId, version: 44003736008 },
                permission_policy: { type: 'always_allow' },
              },
            ],
          }),
        })
      ).status,
    ];
    expect(statuses.map((status) => status >= 400 && status < 500)).toEqual([true, true, true]);
  });

  it('a NUL character in a stored string is a 4xx (or stored), never a 500', async () => {
    const statuses = [
      (
        await harness.request('/v1/agents', {
          method: 'POST',
          body: JSON.stringify({ name: 'fuzz finding', model: 'claude-sonnet-5-5', metadata: { key: 'a\u0000b' } }),
        })
      ).status,
      (
        await harness.request('/v1/vaults', {
          method: 'POST',
          body: JSON.stringify({ display_name: 'fuzz', metadata: { key: 'a\u0000b' } }),
        })
      ).status,
    ];
    expect(statuses.map((status) => status < 500)).toEqual([true, true]);
  });

  it('a created_at filter with an out-of-range UTC offset is a 4xx', async () => {
    const filter = encodeURIComponent('0343-12-29T11:33:46.5-22:03');
    const statuses = [
      (await harness.request(`/v1/agents?created_at[gte]=${filter}`)).status,
      (await harness.request(`/v1/sessions?created_at[lt]=${filter}`)).status,
    ];
    expect(statuses.map((status) => status >= 400 && status < 500)).toEqual([true, true]);
  });
});
