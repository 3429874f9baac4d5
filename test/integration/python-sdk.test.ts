// Compatibility proved by the official Python client too: the `anthropic` package from PyPI (pinned in
// scripts/setup/python-tools.sh) creates an agent, an environment and a session, sends a message, lists the events and
// retrieves the session against this API, with only base_url changed. The scripted model runs `bash` in the sandbox.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../support/api-harness.ts';

const projectRoot = join(import.meta.dirname, '..', '..');
const python = join(projectRoot, '.tools', 'bin', 'python-anthropic');
const script = join(projectRoot, 'test', 'fixtures', 'python', 'sdk_session.py');

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('python-sdk', { workers: ['session', 'model', 'sandbox'] });
});
afterAll(async () => {
  await harness?.stop();
});

it('runs a session through the official Python SDK', { timeout: 120_000 }, async () => {
  expect(existsSync(python), `${python} missing: run bash scripts/setup/python-tools.sh`).toBe(true);
  const model = `${harness.platform.prefix}-python`;
  harness.platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'bash', input: { command: 'echo hello from $(id -u)' } }] },
    { text: 'The command printed a greeting.' },
  ]);
  const { stdout } = await promisify(execFile)(python, [script, harness.baseURL, harness.tenant.apiKey, model], {
    timeout: 100_000,
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    sdk_version: string;
    agent_id: string;
    session_id: string;
    status: string;
    event_types: string[];
    tool_results: string[];
  };
  expect(result.sdk_version).toBe('2.14.0');
  expect(result.agent_id).toMatch(/^agent_/);
  expect(result.session_id).toMatch(/^sesn_/);
  expect(result.status).toBe('idle');
  expect(result.tool_results).toEqual(['hello from 1000\n']);
  const kinds = result.event_types.filter((type) => !type.startsWith('span.'));
  expect(kinds).toEqual([
    'user.message',
    'session.status_running',
    'agent.tool_use',
    'agent.tool_result',
    'agent.message',
    'session.status_idle',
  ]);
});
